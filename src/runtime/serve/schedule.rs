//! The schedule of `serve --every`: a tick at start, then one every period
//! with jitter, skipped while a tick runs (see [`super::ticks`]).

use std::sync::Arc;
use std::time::Duration;

use rand::RngExt;
use tokio::sync::watch;
use tokio::time::Instant;

use super::Shared;
use crate::events::Trigger;

/// Runs a tick at once, then every `period` (plus up to 10 % jitter), until
/// `stop`. A tick due while another runs is skipped; the running one is
/// tracked with the other runs, which shutdown waits for.
pub(super) async fn schedule(
    shared: Arc<Shared>,
    period: Duration,
    mut stop: watch::Receiver<bool>,
) {
    tracing::info!(every_secs = period.as_secs_f64(), "ticks scheduled");
    let mut base = Instant::now();
    let mut due = base;
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(due) => {}
            _ = stop.wait_for(|stop| *stop) => break,
        }
        match shared.ticks.try_start(shared.ticks.covers(&[], &[])) {
            Err(_) => {
                tracing::warn!("a scheduled tick is due while a tick still runs: skipped");
                shared.metrics.tick_skipped();
            }
            Ok(slot) => {
                let run = shared.clone();
                shared.runs.spawn(async move {
                    let trigger = Trigger::Tick {
                        jobs: Vec::new(),
                        targets: Vec::new(),
                    };
                    let outcome = crate::dispatch::dispatch(&run.ctx, trigger.clone()).await;
                    crate::logs::summary(&outcome.report);
                    run.record(&trigger, &outcome.report);
                    drop(slot);
                });
            }
        }
        // The schedule keeps its pace; after a long stall it starts again from now.
        base = (base + period).max(Instant::now());
        due = base + jitter(period);
    }
}

/// A random delay of up to 10 % of `period`, so replicas do not tick in step.
fn jitter(period: Duration) -> Duration {
    let max = period / 10;
    if max.is_zero() {
        return Duration::ZERO;
    }
    let nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(rand::rng().random_range(0..=nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_a_tenth_of_the_period() {
        for _ in 0..100 {
            assert!(jitter(Duration::from_secs(60)) <= Duration::from_secs(6));
        }
        assert_eq!(jitter(Duration::from_nanos(5)), Duration::ZERO);
    }
}
