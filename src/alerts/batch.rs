//! The jobs of one run deliver together: one request per sink per run.
//!
//! A run gives each of its jobs a [`Member`] of one [`Batch`]. A job's
//! delivery hands its alerts to the batch and waits until every member has
//! either handed its own or left (its job ended without alerts); then one
//! of them delivers all of them at once ([`super::send`]) and each gets
//! back what its own alerts reached. A job that delivers twice in a run
//! (none does) has its second delivery sent alone.
//!
//! A member leaves when its job ends ([`Member::leave`], called by the run)
//! or, failing that, when it is dropped, so no job waits forever on
//! another. A delivery cut short (its run cancelled) leaves the members
//! that wait on it with nothing `reached`: nothing is taken as sent. Nothing a job waits for in its delivery depends on the others:
//! each job delivers last, after its own actions (gc deletes first, then
//! delivers; approve delivers, then writes the audit marks of what was
//! announced).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{watch, OnceCell};

use super::send::{send, Request};
use super::{Delivered, Sinks};

/// The deliveries of one run's jobs.
#[derive(Debug)]
pub(super) struct Batch {
    /// Members that have neither handed their alerts nor left.
    left: watch::Sender<usize>,
    requests: Mutex<Vec<Request>>,
    sent: OnceCell<Vec<Delivered>>,
}

/// One job's place in a [`Batch`].
#[derive(Debug)]
pub(super) struct Member {
    batch: Arc<Batch>,
    /// Whether it has handed its alerts or left.
    done: AtomicBool,
}

impl Batch {
    /// A batch of `members` jobs: one member each.
    pub(super) fn open(members: usize) -> Vec<Member> {
        let batch = Arc::new(Batch {
            left: watch::Sender::new(members),
            requests: Mutex::new(Vec::new()),
            sent: OnceCell::new(),
        });
        (0..members)
            .map(|_| Member {
                batch: batch.clone(),
                done: AtomicBool::new(false),
            })
            .collect()
    }
}

impl Member {
    /// Counts this member out, once; whether it was still in.
    fn count_out(&self) -> bool {
        if self.done.swap(true, Ordering::SeqCst) {
            return false;
        }
        self.batch.left.send_modify(|n| *n = n.saturating_sub(1));
        true
    }

    /// Its job ended: the batch no longer waits for its alerts.
    pub(super) fn leave(&self) {
        self.count_out();
    }

    /// Hands `request` to the batch, waits for the other members, and
    /// returns what its alerts reached. `Err(request)` when this member
    /// has delivered or left already: the caller sends it alone.
    pub(super) async fn deliver(
        &self,
        sinks: &Sinks,
        request: Request,
        dry_run: bool,
    ) -> Result<Delivered, Request> {
        if self.done.load(Ordering::SeqCst) {
            return Err(request);
        }
        let index = {
            let mut requests = self
                .batch
                .requests
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            requests.push(request);
            requests.len() - 1
        };
        self.count_out();
        let mut left = self.batch.left.subscribe();
        // The sender lives in the batch this member holds: never closed.
        let _ = left.wait_for(|n| *n == 0).await;
        let sent = self
            .batch
            .sent
            .get_or_init(|| async {
                let requests = std::mem::take(
                    &mut *self
                        .batch
                        .requests
                        .lock()
                        .unwrap_or_else(|e| e.into_inner()),
                );
                send(sinks, requests, dry_run).await
            })
            .await;
        Ok(sent.get(index).cloned().unwrap_or_default())
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.count_out();
    }
}
