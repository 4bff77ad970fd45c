//! The schedule of `serve --every`: a tick at start, then one every period
//! with jitter, never two at once; and the reading of `--every`.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::Shared;
use crate::events::{Job, Trigger};

/// Runs a tick at once, then every `period` (plus up to 10 % jitter), never
/// two at once, until `stop`; then waits for the running tick to finish.
pub(super) async fn schedule(
    shared: Arc<Shared>,
    period: Duration,
    mut stop: watch::Receiver<bool>,
) {
    tracing::info!(every_secs = period.as_secs_f64(), "ticks scheduled");
    let mut base = Instant::now();
    let mut due = base;
    let mut running: Option<JoinHandle<()>> = None;
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(due) => {}
            _ = stop.wait_for(|stop| *stop) => break,
        }
        if running.as_ref().is_some_and(|tick| !tick.is_finished()) {
            tracing::warn!("a scheduled tick is due while the last one still runs: skipped");
            shared.metrics.tick_skipped();
        } else {
            let shared = shared.clone();
            running = Some(tokio::spawn(async move {
                let trigger = Trigger::Tick {
                    jobs: Job::ALL.to_vec(),
                    targets: Vec::new(),
                };
                let outcome = crate::dispatch::dispatch(&shared.ctx, trigger.clone()).await;
                tracing::info!(report = %outcome.report.to_json_line(), "report");
                shared.record(&trigger, &outcome.report);
            }));
        }
        // The schedule keeps its pace; after a long stall it starts again from now.
        base = (base + period).max(Instant::now());
        due = base + jitter(period);
    }
    if let Some(tick) = running {
        if !tick.is_finished() {
            tracing::info!("waiting for the running tick to finish");
        }
        if let Err(e) = tick.await {
            tracing::error!(error = %e, "the last tick stopped abnormally");
        }
    }
}

/// A random delay of up to 10 % of `period`, so replicas do not tick in step.
fn jitter(period: Duration) -> Duration {
    let max = period / 10;
    if max.is_zero() {
        return Duration::ZERO;
    }
    let nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(rand::thread_rng().gen_range(0..=nanos))
}

/// Reads `--every`: a number and a unit, `s`, `m` or `h` (`90s`, `5m`,
/// `1h`), or several (`1h30m`). At least one second, at most a week.
pub fn parse_period(text: &str) -> Result<Duration, String> {
    let expected = || format!("expected a duration such as 30s, 5m, 1h or 1h30m; got {text:?}");
    let mut total: u64 = 0;
    let mut digits = String::new();
    let mut parts = 0;
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return Err(expected()),
        };
        let n: u64 = digits.parse().map_err(|_| expected())?;
        total = n
            .checked_mul(unit)
            .and_then(|secs| total.checked_add(secs))
            .ok_or_else(expected)?;
        digits.clear();
        parts += 1;
    }
    if !digits.is_empty() || parts == 0 {
        return Err(expected());
    }
    const WEEK: u64 = 7 * 24 * 3600;
    match total {
        0 => Err(format!("the period must be at least 1s; got {text:?}")),
        secs if secs > WEEK => Err(format!(
            "the period must be at most a week (168h); got {text:?}"
        )),
        secs => Ok(Duration::from_secs(secs)),
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
        for bad in [
            "",
            "5",
            "m",
            "5x",
            "0s",
            "-5m",
            "1.5m",
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
