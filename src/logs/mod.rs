//! Logs that cost little: one summary line per invocation, one line per
//! action taken (accepted, rejected, revoked, deleted, alerted: written
//! where the action happens), at most [`MAX_ERROR_LINES`] error lines; the
//! full report goes only to the caller. Fields are flat JSON values (numbers,
//! short strings), so with JSON logs (`WARDEN_LOG_FORMAT=json`, or
//! `AWS_LAMBDA_LOG_FORMAT=JSON` on Lambda) every field is a JSON value of
//! the line itself, never JSON text inside a string.

mod emf;
mod subscriber;

pub use emf::{emf, EMF_NAMESPACE};
pub use subscriber::{colour, filter, init, subscriber};

use crate::report::Report;

/// Error lines logged per invocation; the summary counts the rest.
pub const MAX_ERROR_LINES: usize = 20;

/// Ids named in the summary for long lists (`left_pending`, `gc_skipped`).
pub const FIRST_IDS: usize = 5;

/// The first few ids of a list, comma-separated, with how many were left out.
fn first_ids<'a>(ids: impl ExactSizeIterator<Item = &'a str>) -> String {
    let total = ids.len();
    let mut shown: Vec<&str> = ids.take(FIRST_IDS).collect();
    shown.dedup();
    let mut out = shown.join(",");
    if total > FIRST_IDS {
        out.push_str(&format!(" (+{} more)", total - FIRST_IDS));
    }
    out
}

/// Logs one summary line for a finished invocation, and its first errors.
pub fn summary(report: &Report) {
    for e in report.errors.iter().take(MAX_ERROR_LINES) {
        tracing::warn!(job = %e.job, on = %e.target, retryable = e.retryable, error = %e.message, "action failed");
    }
    tracing::info!(
        trigger = %report.trigger,
        dry_run = report.dry_run,
        approved = report.approved.len(),
        rejected = report.rejected.len(),
        left_pending = report.left_pending.len(),
        left_pending_first = %first_ids(report.left_pending.iter().map(|e| e.endpoint_id.as_str())),
        revoked = report.revoked.len(),
        deleted = report.deleted.len(),
        gc_skipped = report.gc_skipped.len(),
        gc_skipped_first = %first_ids(report.gc_skipped.iter().map(|e| e.endpoint_id.as_str())),
        alerts = report.alerts.len(),
        errors = report.errors.len(),
        errors_not_logged = report.errors.len().saturating_sub(MAX_ERROR_LINES),
        api_calls = report.api_calls,
        duration_ms = report.duration_ms,
        "run summary"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lists_are_summarised_with_a_count() {
        let ids = ["a", "b", "c", "d", "e", "f", "g"];
        assert_eq!(first_ids(ids.iter().copied()), "a,b,c,d,e (+2 more)");
        assert_eq!(first_ids(["a"].iter().copied()), "a");
        assert_eq!(first_ids([].iter().copied()), "");
    }
}
