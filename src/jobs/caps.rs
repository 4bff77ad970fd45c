//! Caps that count across the whole run: `WARDEN_RECONCILE_MAX` and
//! `WARDEN_GC_MAX_DELETES` hold for every target of a run together, not for
//! each target alone.
//!
//! Each target's job plans first, then offers its count to the run's
//! [`Tally`] and waits until every target of the run has offered its own
//! (or has ended without: a target whose run stopped early, or whose agency
//! hand-off failed, offers nothing and counts as "not read"). Only then does
//! any target act, on the same verdict: over the cap, none acts, and exactly
//! one of them raises the alert. A target that never reaches the tally offers
//! when its [`Seat`] is dropped, so no target waits forever on another.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

/// The two run-wide caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cap {
    /// Revocations (`WARDEN_RECONCILE_MAX`).
    Revoke,
    /// gc deletions (`WARDEN_GC_MAX_DELETES`).
    Delete,
}

/// What every target of a run learns once all have offered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// The count offered by all targets together.
    pub total: usize,
    /// Why the run's reads are not complete: a read that failed anywhere,
    /// or a target that ended without offering (first few, by target).
    pub incomplete: Vec<String>,
    /// Whether this target is the one that raises the alert of the run.
    pub alerts: bool,
}

#[derive(Debug, Default)]
struct Count {
    expected: usize,
    arrived: usize,
    total: usize,
    incomplete: Vec<String>,
    alert_taken: bool,
    /// Actions handed out by [`Seat::take`].
    taken: usize,
}

/// The count of one cap across the targets of a run.
#[derive(Debug)]
struct Tally {
    count: Mutex<Count>,
    done: watch::Sender<bool>,
}

impl Tally {
    fn new(expected: usize) -> Self {
        Self {
            count: Mutex::new(Count {
                expected: expected.max(1),
                ..Count::default()
            }),
            done: watch::channel(false).0,
        }
    }

    fn offer(&self, count: usize, incomplete: Option<String>) {
        let mut c = self.count.lock().unwrap_or_else(|e| e.into_inner());
        c.arrived += 1;
        c.total += count;
        if let Some(why) = incomplete {
            c.incomplete.push(why);
        }
        if c.arrived >= c.expected {
            self.done.send_replace(true);
        }
    }

    async fn verdict(&self) -> Verdict {
        let mut done = self.done.subscribe();
        // The sender lives as long as `self`: waiting cannot fail.
        let _ = done.wait_for(|d| *d).await;
        let mut c = self.count.lock().unwrap_or_else(|e| e.into_inner());
        let alerts = !std::mem::replace(&mut c.alert_taken, true);
        Verdict {
            total: c.total,
            incomplete: c.incomplete.clone(),
            alerts,
        }
    }
}

/// The caps of one run, shared by its targets.
#[derive(Debug)]
pub struct RunCaps {
    revoke: Tally,
    delete: Tally,
}

impl RunCaps {
    /// The caps of a run over `targets` targets.
    pub fn new(targets: usize) -> Arc<Self> {
        Arc::new(Self {
            revoke: Tally::new(targets),
            delete: Tally::new(targets),
        })
    }

    fn tally(&self, cap: Cap) -> &Tally {
        match cap {
            Cap::Revoke => &self.revoke,
            Cap::Delete => &self.delete,
        }
    }
}

/// One target's place in a run's tallies. Dropped without offering (the
/// target's run ended before its jobs got there), it offers nothing and
/// marks the run's reads incomplete, so the others go on.
#[derive(Debug)]
pub struct Seat {
    caps: Arc<RunCaps>,
    name: String,
    offered: [AtomicBool; 2],
}

impl Seat {
    /// A seat named `name` (the target's, or empty for a run without targets).
    pub fn new(caps: Arc<RunCaps>, name: &str) -> Arc<Self> {
        Arc::new(Self {
            caps,
            name: name.to_owned(),
            offered: [AtomicBool::new(false), AtomicBool::new(false)],
        })
    }

    /// A run of one: the tallies answer at once.
    pub fn alone() -> Arc<Self> {
        Self::new(RunCaps::new(1), "")
    }

    /// Offers this target's `count` (with why its reads are incomplete, if
    /// they are) and waits for the verdict of the whole run. A second offer
    /// of the same cap only waits.
    pub async fn offer(&self, cap: Cap, count: usize, incomplete: Option<String>) -> Verdict {
        let tally = self.caps.tally(cap);
        if !self.offered[cap as usize].swap(true, Ordering::SeqCst) {
            let incomplete = incomplete.map(|why| match self.name.as_str() {
                "" => why,
                name => format!("target {name}: {why}"),
            });
            tally.offer(count, incomplete);
        }
        tally.verdict().await
    }
}

impl Seat {
    /// Takes up to `want` of the `max` actions the whole run may make, first
    /// come first served (gc's `WARDEN_GC_OVER_LIMIT=partial`).
    pub fn take(&self, cap: Cap, want: usize, max: usize) -> usize {
        let tally = self.caps.tally(cap);
        let mut c = tally.count.lock().unwrap_or_else(|e| e.into_inner());
        let got = want.min(max.saturating_sub(c.taken));
        c.taken += got;
        got
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        for cap in [Cap::Revoke, Cap::Delete] {
            if !self.offered[cap as usize].swap(true, Ordering::SeqCst) {
                let why = match self.name.as_str() {
                    "" => "the run ended before it was read".to_owned(),
                    name => format!("target {name} ended before it was read"),
                };
                self.caps.tally(cap).offer(0, Some(why));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_target_waits_for_the_others_and_one_alerts() {
        let caps = RunCaps::new(3);
        let a = Seat::new(caps.clone(), "a");
        let b = Seat::new(caps.clone(), "b");
        let c = Seat::new(caps.clone(), "c");
        let (va, vb) = tokio::join!(a.offer(Cap::Revoke, 4, None), async {
            let v = b.offer(Cap::Revoke, 4, None);
            // c's run ends without reaching the tally.
            drop(c);
            v.await
        });
        assert_eq!((va.total, vb.total), (8, 8));
        assert_eq!(va.incomplete, ["target c ended before it was read"]);
        assert_eq!(
            [va.alerts, vb.alerts].iter().filter(|x| **x).count(),
            1,
            "exactly one raises the alert"
        );
    }

    #[tokio::test]
    async fn a_run_of_one_answers_at_once() {
        let seat = Seat::alone();
        let v = seat.offer(Cap::Delete, 2, Some("list failed".into())).await;
        assert_eq!(v.total, 2);
        assert_eq!(v.incomplete, ["list failed"]);
        assert!(v.alerts);
    }
}
