//! Audit marks: the short note the warden writes in a connection's
//! description when it accepts, rejects, announces or revokes it
//! (`WARDEN_AUDIT_DESCRIPTION=on`). A mark is also the record that a pending
//! connection was announced, so no state store is needed. A description the
//! warden did not write is never overwritten.

use time::macros::format_description;
use time::OffsetDateTime;

/// Every mark starts with this.
pub const PREFIX: &str = "vpcep-warden:";

/// The longest mark written, in characters (the API allows more).
const MAX_CHARS: usize = 255;

/// Whether the warden may write this description: empty, or one of its marks.
pub fn is_ours(description: Option<&str>) -> bool {
    description
        .map(str::trim)
        .is_none_or(|d| d.is_empty() || d.starts_with(PREFIX))
}

/// Whether the description says the connection was announced (or decided:
/// a connection the warden rejected or revoked and that is pending again was
/// already seen by a person).
pub fn is_announced(description: Option<&str>) -> bool {
    description
        .map(str::trim)
        .is_some_and(|d| d.starts_with(&format!("{PREFIX} announced")))
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
    fn only_empty_descriptions_and_marks_are_ours() {
        assert!(is_ours(None));
        assert!(is_ours(Some("  ")));
        assert!(!is_ours(Some("billing contact: ops@example.com")));
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
