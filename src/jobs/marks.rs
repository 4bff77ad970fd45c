//! Audit marks: the short note the warden writes in a connection's
//! description when it accepts, rejects, announces or revokes it
//! (`WARDEN_AUDIT_DESCRIPTION=on`). A mark is also the record that a pending
//! connection was announced, so no state store is needed. A description the
//! warden did not write is never overwritten: every write goes through
//! [`crate::vpcep::Client::describe_own_connections`], which checks ownership
//! when it writes.

use time::macros::format_description;
use time::OffsetDateTime;

pub use crate::vpcep::MARK_PREFIX as PREFIX;

/// The longest mark written, in characters (the API allows more).
const MAX_CHARS: usize = 255;

pub use crate::vpcep::is_own_description as is_ours;

/// Whether the description says the connection was announced (or decided:
/// a connection the warden rejected or revoked and that is pending again was
/// already seen by a person).
pub fn is_announced(description: Option<&str>) -> bool {
    description
        .map(str::trim)
        .is_some_and(|d| d.starts_with(&format!("{PREFIX} announced")))
}

/// What the mark of a first sighting says (see [`first_sighting`]).
pub const FOUND_NOT_ALLOWED: &str = "found not allowed";

/// When the connection was first found not allowed, from its description's
/// mark: the minute written, rounded up (so a grace period is never cut short).
pub fn first_sighting(description: Option<&str>) -> Option<OffsetDateTime> {
    let rest = description?
        .trim()
        .strip_prefix(PREFIX)?
        .trim_start()
        .strip_prefix(FOUND_NOT_ALLOWED)?
        .trim_start();
    let when = rest.split(',').next()?.trim();
    let at = time::PrimitiveDateTime::parse(
        when,
        format_description!("[year]-[month]-[day]T[hour]:[minute]Z"),
    )
    .ok()?;
    Some(at.assume_utc() + time::Duration::minutes(1))
}

/// `vpcep-warden: {what} 2026-11-24T10:00Z, {why}`: without `<` or `>` (the
/// API refuses them) and at most 255 characters.
pub fn mark(what: &str, at: OffsetDateTime, why: &str) -> String {
    let when = at
        .format(format_description!("[year]-[month]-[day]T[hour]:[minute]Z"))
        .unwrap_or_default();
    let text = format!("{PREFIX} {what} {when}, {why}");
    text.chars()
        .filter(|c| !matches!(c, '<' | '>') && !c.is_control())
        .take(MAX_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_mark_reads_like_the_documented_example() {
        let m = mark(
            "accepted",
            datetime!(2026-11-24 10:00:31 UTC),
            "account in WARDEN_ALLOWED_DOMAINS",
        );
        assert_eq!(
            m,
            "vpcep-warden: accepted 2026-11-24T10:00Z, account in WARDEN_ALLOWED_DOMAINS"
        );
        assert!(is_ours(Some(&m)));
        assert!(!is_announced(Some(&m)));
    }

    #[test]
    fn a_first_sighting_reads_back_rounded_up_to_the_next_minute() {
        let m = mark(FOUND_NOT_ALLOWED, datetime!(2026-11-24 10:00:31 UTC), "x");
        assert_eq!(
            first_sighting(Some(&m)),
            Some(datetime!(2026-11-24 10:01 UTC))
        );
        assert_eq!(
            first_sighting(Some("vpcep-warden: announced 2026-11-24T10:00Z, x")),
            None
        );
        assert_eq!(
            first_sighting(Some("ops: found not allowed 2026-11-24T10:00Z")),
            None
        );
        assert!(is_announced(Some(
            "vpcep-warden: announced 2026-11-24T10:00Z, x"
        )));
    }

    #[test]
    fn marks_are_bounded_and_free_of_angle_brackets() {
        let m = mark("left", OffsetDateTime::UNIX_EPOCH, &"<x>".repeat(200));
        assert!(m.chars().count() <= 255);
        assert!(!m.contains('<') && !m.contains('>'));
    }
}
