//! The schedule of `serve --every`: a tick at start, then one every period
//! with jitter, skipped while a tick runs (see [`super::ticks`]); and the
//! reading of durations (`--every`, `--read-timeout`, `--shutdown-grace`).

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

/// Reads a duration: a number and a unit (`90s`, `5m`, `1h`), or several
/// (`1h30m`, `1h 30m`), as the `humantime` crate reads them. At least one
/// second, at most a week.
pub fn parse_period(text: &str) -> Result<Duration, String> {
    let expected = || format!("expected a duration such as 30s, 5m, 1h or 1h30m; got {text:?}");
    let period = humantime::parse_duration(text.trim()).map_err(|_| expected())?;
    const WEEK: Duration = Duration::from_secs(7 * 24 * 3600);
    if period < Duration::from_secs(1) {
        Err(format!("the period must be at least 1s; got {text:?}"))
    } else if period > WEEK {
        Err(format!(
            "the period must be at most a week (168h); got {text:?}"
        ))
    } else {
        Ok(period)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_take_seconds_minutes_and_hours() {
        assert_eq!(parse_period("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_period("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_period("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_period("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_period("1.5m"), Ok(Duration::from_secs(90)));
        for bad in [
            "",
            "5",
            "m",
            "5x",
            "0s",
            "-5m",
            "500ms",
            "200h",
            "99999999999999999999h",
        ] {
            assert!(parse_period(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn jitter_stays_within_a_tenth_of_the_period() {
        for _ in 0..100 {
            assert!(jitter(Duration::from_secs(60)) <= Duration::from_secs(6));
        }
        assert_eq!(jitter(Duration::from_nanos(5)), Duration::ZERO);
    }
}
