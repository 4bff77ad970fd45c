//! One tick per target at a time in `serve`, whoever asks for it (the
//! schedule or a POST).
//!
//! A tick asks to start with the jobs and targets it covers. When no running
//! tick shares a target with it, it starts. When one does:
//! - a posted tick that the running one covers whole (all its jobs, all its
//!   targets) is *joined*: answered `202 Accepted` and not started again, so
//!   a captured tick replayed ten times at once runs once;
//! - a posted tick that it does not cover waits for it to end, then starts
//!   (nothing asked for is dropped, and still one tick per target at a time);
//! - a scheduled tick is skipped (the next one comes soon).

use std::sync::{Arc, Mutex};

use serde::Serialize;
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::events::Job;

/// What a running tick covers, as shown in a `202` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct Covers {
    pub jobs: Vec<Job>,
    /// Target names (`default` without `WARDEN_TARGETS`).
    pub targets: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
}

impl Covers {
    fn overlaps(&self, other: &Covers) -> bool {
        self.targets.iter().any(|t| other.targets.contains(t))
    }

    fn covers(&self, other: &Covers) -> bool {
        other.jobs.iter().all(|j| self.jobs.contains(j))
            && other.targets.iter().all(|t| self.targets.contains(t))
    }
}

struct Running {
    id: u64,
    covers: Covers,
    done: watch::Receiver<bool>,
}

/// The ticks running now.
pub(super) struct Ticks {
    /// Every target name the settings know (`default` alone without targets).
    all_targets: Vec<String>,
    running: Mutex<(u64, Vec<Running>)>,
}

/// Why a tick did not start.
pub(super) enum Busy {
    /// A running tick covers it whole.
    Joined(Covers),
    /// A running tick shares a target with it without covering it: wait.
    Overlaps(watch::Receiver<bool>),
}

/// A started tick's place: while it is held, the tick counts as running.
pub(super) struct Slot {
    ticks: Arc<Ticks>,
    id: u64,
    done: watch::Sender<bool>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.ticks.lock().1.retain(|r| r.id != self.id);
        self.done.send_replace(true);
    }
}

impl Ticks {
    pub(super) fn new(all_targets: Vec<String>) -> Self {
        Self {
            all_targets,
            running: Mutex::new((0, Vec::new())),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, Vec<Running>)> {
        // The list holds plain values: usable after a panic elsewhere.
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What a tick of `jobs` in `targets` covers (empty: all of them).
    pub(super) fn covers(&self, jobs: &[Job], targets: &[String]) -> Covers {
        Covers {
            jobs: if jobs.is_empty() {
                Job::ALL.to_vec()
            } else {
                jobs.to_vec()
            },
            targets: if targets.is_empty() {
                self.all_targets.clone()
            } else {
                targets.to_vec()
            },
            started_at: OffsetDateTime::now_utc(),
        }
    }

    /// Starts a tick covering `covers` unless a running one shares a target.
    pub(super) fn try_start(self: &Arc<Self>, covers: Covers) -> Result<Slot, Busy> {
        let mut running = self.lock();
        if let Some(other) = running.1.iter().find(|r| r.covers.overlaps(&covers)) {
            return Err(if other.covers.covers(&covers) {
                Busy::Joined(other.covers.clone())
            } else {
                Busy::Overlaps(other.done.clone())
            });
        }
        running.0 += 1;
        let id = running.0;
        let (done, rx) = watch::channel(false);
        running.1.push(Running {
            id,
            covers,
            done: rx,
        });
        Ok(Slot {
            ticks: self.clone(),
            id,
            done,
        })
    }

    /// Whether any tick runs now.
    pub(super) fn any_running(&self) -> bool {
        !self.lock().1.is_empty()
    }
}

/// Waits until the tick behind `done` has ended.
pub(super) async fn ended(mut done: watch::Receiver<bool>) {
    // An error means the slot is gone: ended too.
    let _ = done.wait_for(|ended| *ended).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticks() -> Arc<Ticks> {
        Arc::new(Ticks::new(vec!["a".into(), "b".into()]))
    }

    #[test]
    fn a_tick_covered_by_the_running_one_is_joined() {
        let ticks = ticks();
        let slot = ticks.try_start(ticks.covers(&[], &[])).ok().unwrap();
        for (jobs, targets) in [
            (vec![], vec![]),
            (vec![Job::Gc], vec![]),
            (vec![Job::Approve, Job::Quota], vec!["b".to_owned()]),
        ] {
            let again = ticks.try_start(ticks.covers(&jobs, &targets));
            assert!(
                matches!(again, Err(Busy::Joined(_))),
                "{jobs:?} {targets:?}"
            );
        }
        drop(slot);
        assert!(!ticks.any_running());
        assert!(ticks.try_start(ticks.covers(&[], &[])).is_ok());
    }

    #[tokio::test]
    async fn a_tick_sharing_a_target_but_not_covered_waits_and_others_start() {
        let ticks = ticks();
        let gc_in_a = ticks
            .try_start(ticks.covers(&[Job::Gc], &["a".to_owned()]))
            .ok()
            .unwrap();
        let Err(Busy::Overlaps(done)) = ticks.try_start(ticks.covers(&[], &[])) else {
            panic!("a whole tick shares target a without being covered");
        };
        let in_b = ticks.try_start(ticks.covers(&[], &["b".to_owned()]));
        assert!(in_b.is_ok(), "target b is free");
        drop(gc_in_a);
        ended(done).await;
    }
}
