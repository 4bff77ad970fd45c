//! The subscriber every mode logs through: JSON lines or text, a timestamp
//! on every line, colour only on a terminal, and what is logged
//! (`AWS_LAMBDA_LOG_LEVEL`, `RUST_LOG`, the mode's default).

use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// The time on every line, in every mode: RFC 3339 in UTC with milliseconds
/// (`2026-12-02T01:42:53.279Z`), under the key `timestamp` in JSON lines,
/// which Lambda's advanced logging controls need to file a line by its level.
type Clock = tracing_subscriber::fmt::time::UtcTime<
    &'static [time::format_description::BorrowedFormatItem<'static>],
>;

fn clock() -> Clock {
    tracing_subscriber::fmt::time::UtcTime::new(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
}

/// Whether text logs may be coloured: only on a terminal, and never when
/// `NO_COLOR` is set to anything but an empty string (no-color.org).
pub fn colour(terminal: bool, no_color: Option<&str>) -> bool {
    terminal && no_color.is_none_or(str::is_empty)
}

/// The subscriber writing to `writer`: JSON lines (every field at the top
/// level, one `level` key) when `json`, else human text, coloured when
/// `ansi`; a `timestamp` on every line either way. `filter` says what is logged.
pub fn subscriber<W>(
    writer: W,
    json: bool,
    filter: Targets,
    ansi: bool,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_timer(clock())
        // The module path adds length, not meaning, to every line.
        .with_target(false);
    if json {
        Box::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(false)
                .finish()
                .with(filter),
        )
    } else {
        Box::new(builder.with_ansi(ansi).finish().with(filter))
    }
}

/// What is logged: `AWS_LAMBDA_LOG_LEVEL` (Lambda's advanced logging
/// controls: `TRACE` … `ERROR`, `FATAL` read as `error`), else `RUST_LOG`,
/// else `default`. `RUST_LOG` holds comma-separated `target=level`
/// directives and at most one bare level for every other target
/// (`vpcep_warden=debug,warn`); span and field filters (`[span]{field}`) are
/// not read. A value that does not read so is set aside for `default`, and
/// the second value says why (logged once logging is up).
pub fn filter(
    lambda_level: Option<&str>,
    rust_log: Option<&str>,
    default: &str,
) -> (Targets, Option<String>) {
    let fallback = || default.parse().unwrap_or_default();
    let level = lambda_level.map(str::trim).filter(|l| !l.is_empty());
    let (variable, value) = match (level, rust_log.map(str::trim)) {
        (Some(level), _) if level.eq_ignore_ascii_case("fatal") => {
            ("AWS_LAMBDA_LOG_LEVEL", "error".to_owned())
        }
        (Some(level), _) => ("AWS_LAMBDA_LOG_LEVEL", level.to_ascii_lowercase()),
        (None, Some(directives)) if !directives.is_empty() => ("RUST_LOG", directives.to_owned()),
        _ => return (fallback(), None),
    };
    let parsed = match value.contains(['[', '{']) {
        true => Err("span and field filters are not read".to_owned()),
        false => value.parse::<Targets>().map_err(|e| e.to_string()),
    };
    match parsed {
        Ok(targets) => (targets, None),
        Err(e) => (
            fallback(),
            Some(format!(
                "{variable}={value:?} is not understood ({e}): expected a level (error, warn, info, debug, trace) or target=level directives such as vpcep_warden=debug,warn; logging at {default:?}"
            )),
        ),
    }
}

/// Starts logging to `writer` (see [`subscriber`]); `terminal`: whether
/// `writer` is a terminal (colour only then, and not with `NO_COLOR`). The
/// level comes from `RUST_LOG` (or `AWS_LAMBDA_LOG_LEVEL` on Lambda), else
/// `default_filter`.
pub fn init<W>(writer: W, json: bool, default_filter: &str, terminal: bool)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let (filter, refused) = filter(
        std::env::var("AWS_LAMBDA_LOG_LEVEL").ok().as_deref(),
        std::env::var("RUST_LOG").ok().as_deref(),
        default_filter,
    );
    let ansi = colour(terminal, std::env::var("NO_COLOR").ok().as_deref());
    // A second init (tests) is ignored rather than a panic.
    let _ = tracing::subscriber::set_global_default(subscriber(writer, json, filter, ansi));
    if let Some(why) = refused {
        tracing::warn!("{why}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_and_never_with_no_color() {
        assert!(colour(true, None));
        assert!(colour(true, Some("")), "an empty NO_COLOR is unset");
        assert!(!colour(true, Some("1")));
        assert!(!colour(false, None));
    }

    /// A writer into a shared buffer.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_level_comes_from_lambda_then_rust_log_then_the_default() {
        use tracing::Level;
        let default = "vpcep_warden=info,warn";
        let (f, why) = filter(None, Some("vpcep_warden=debug,error"), default);
        assert!(why.is_none());
        assert!(f.would_enable("vpcep_warden::jobs", &Level::DEBUG));
        assert!(!f.would_enable("hyper", &Level::WARN));
        assert!(f.would_enable("hyper", &Level::ERROR));
        let (f, _) = filter(Some("DEBUG"), Some("error"), default);
        assert!(f.would_enable("lambda_runtime", &Level::DEBUG));
        let (f, _) = filter(Some("FATAL"), None, default);
        assert!(f.would_enable("vpcep_warden", &Level::ERROR));
        assert!(!f.would_enable("vpcep_warden", &Level::WARN));
        let (f, why) = filter(None, Some(" "), default);
        assert!(why.is_none());
        assert!(f.would_enable("vpcep_warden::x", &Level::INFO));
        assert!(!f.would_enable("reqwest", &Level::INFO));
    }

    #[test]
    fn a_rust_log_not_understood_falls_back_to_the_default_saying_why() {
        let (f, why) = filter(None, Some("vpcep_warden[run]=debug"), "warn");
        assert!(f.would_enable("vpcep_warden", &tracing::Level::WARN));
        assert!(!f.would_enable("vpcep_warden", &tracing::Level::DEBUG));
        let why = why.expect("a reason");
        assert!(
            why.contains("RUST_LOG") && why.contains("target=level"),
            "{why}"
        );
    }

    #[test]
    fn every_json_line_has_a_timestamp_as_lambda_mode_writes_them() {
        // The subscriber Lambda mode uses (`init(stdout, json, "info", false)`).
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = subscriber(move || writer.clone(), true, "info".parse().unwrap(), false);
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(alert_level = "critical", "alert");
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let line: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["alert_level"], "critical");
        let stamp = line["timestamp"].as_str().unwrap();
        assert!(
            time::OffsetDateTime::parse(stamp, &time::format_description::well_known::Rfc3339)
                .is_ok(),
            "{stamp}"
        );
    }
}
