//! The durations of `serve`'s options (`--every`, `--read-timeout`,
//! `--shutdown-grace`), read on the command line whether or not this build
//! has `serve`.

use std::time::Duration;

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
}
