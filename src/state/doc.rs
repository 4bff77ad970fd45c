//! The state document of one target: what each sink was sent, which
//! connections were announced, when revocable connections were first seen,
//! and the last run's summary. Small JSON, read once and written once per
//! run (plus once before sending whatever is due, see [`super::Run::claim`]).
//!
//! Two writers that read the same version merge on conflict, three-way
//! against the version both read: an entry one side left as it was takes the
//! other side's value; an entry both changed keeps the latest sending, the
//! earliest announcement and the earliest first sighting; an entry one side
//! removed and the other changed is kept (remembering too much costs at most
//! a late resolved message; forgetting costs a duplicate).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

pub use super::announced::Announced;

/// The document format this build writes and reads.
pub const FORMAT: u32 = 1;

/// One target's state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Doc {
    /// [`FORMAT`]; a document of a later format is left alone.
    pub format: u32,
    /// What each sink (`webhook`, `smn`) was sent, by the alert's `dedup_key`.
    #[serde(default)]
    pub sent: BTreeMap<String, BTreeMap<String, Sent>>,
    /// Waiting connections announced, by `{service_id}/{endpoint_id}`.
    #[serde(default, with = "super::announced::by_key")]
    pub announced: BTreeMap<String, Announced>,
    /// Accepted connections of accounts no longer allowed: when each was
    /// first found so, by `{service_id}/{endpoint_id}`.
    #[serde(default, with = "times")]
    pub first_seen: BTreeMap<String, OffsetDateTime>,
    /// The last run's summary.
    #[serde(default)]
    pub last_run: Option<LastRun>,
}

/// One alert as a sink was sent it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sent {
    /// Tells the alert sent from a changed one under the same key (level, kind).
    pub fingerprint: String,
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: OffsetDateTime,
    /// The job that raised it: only that job's runs can find it cleared.
    pub job: String,
    /// Claimed by a run about to send it and not yet confirmed: a claim
    /// older than [`CLAIM_HOLDS`] is taken as not sent (its run ended
    /// before it could confirm).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub claimed: bool,
    /// The alert, to say it is resolved once it clears.
    pub alert: Value,
}

/// How long an unconfirmed claim stops other runs from sending the same alert.
pub const CLAIM_HOLDS: time::Duration = time::Duration::minutes(10);

/// The last run's summary ([`crate::report::Report::summary`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastRun {
    #[serde(with = "time::serde::rfc3339")]
    pub finished_at: OffsetDateTime,
    pub summary: Value,
}

/// `{service_id}/{endpoint_id}`: how connections are keyed.
pub fn connection_key(service_id: &str, endpoint_id: &str) -> String {
    format!("{service_id}/{endpoint_id}")
}

/// RFC 3339 times as map values.
mod times {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use time::format_description::well_known::Rfc3339;
    use time::OffsetDateTime;

    pub fn serialize<S: Serializer>(
        map: &BTreeMap<String, OffsetDateTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let text: BTreeMap<&String, String> = map
            .iter()
            .map(|(k, t)| (k, t.format(&Rfc3339).unwrap_or_default()))
            .collect();
        text.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, OffsetDateTime>, D::Error> {
        let text = BTreeMap::<String, String>::deserialize(d)?;
        text.into_iter()
            .map(|(k, t)| {
                OffsetDateTime::parse(&t, &Rfc3339)
                    .map(|t| (k, t))
                    .map_err(serde::de::Error::custom)
            })
            .collect()
    }
}

/// Why a stored document cannot be taken as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    /// Written by a later warden: left alone, never overwritten.
    Later(u32),
    /// Not a state document (the reason); what could be saved of it.
    Corrupt(String),
}

impl Doc {
    /// An empty document of this format.
    pub fn new() -> Self {
        Self {
            format: FORMAT,
            ..Self::default()
        }
    }

    /// The document in `bytes`. A corrupt one gives the reason and what
    /// could be saved: each section, and each entry of a section, that still
    /// reads is kept.
    #[allow(clippy::result_large_err)] // read once per run; boxing buys nothing
    pub fn parse(bytes: &[u8]) -> Result<Self, (Unreadable, Self)> {
        let value: Value = match serde_json::from_slice(bytes) {
            Ok(v) => v,
            Err(e) => return Err((Unreadable::Corrupt(format!("not JSON: {e}")), Self::new())),
        };
        let format = value.get("format").and_then(Value::as_u64);
        if let Some(later) = format.filter(|f| *f > u64::from(FORMAT)) {
            let later = u32::try_from(later).unwrap_or(u32::MAX);
            return Err((Unreadable::Later(later), Self::new()));
        }
        match serde_json::from_value::<Doc>(value.clone()) {
            Ok(doc) if format == Some(u64::from(FORMAT)) => Ok(doc),
            Ok(_) => Err((
                Unreadable::Corrupt(format!("no \"format\": {FORMAT}")),
                salvage(&value),
            )),
            Err(e) => Err((Unreadable::Corrupt(e.to_string()), salvage(&value))),
        }
    }

    /// The document as stored.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        // The memory store keeps the bytes: not the doubled buffer they grew in.
        bytes.shrink_to_fit();
        bytes
    }

    /// Merges `ours` and `theirs`, two edits of `base`.
    pub fn merge(base: &Doc, ours: &Doc, theirs: &Doc) -> Doc {
        let sinks: std::collections::BTreeSet<&String> = base
            .sent
            .keys()
            .chain(ours.sent.keys())
            .chain(theirs.sent.keys())
            .collect();
        let empty = BTreeMap::new();
        let mut sent = BTreeMap::new();
        for sink in sinks {
            let one = |d: &'_ Doc| d.sent.get(sink).cloned().unwrap_or_else(|| empty.clone());
            let merged = merge_map(&one(base), &one(ours), &one(theirs), |o, t| {
                match (o.sent_at.cmp(&t.sent_at), o.claimed, t.claimed) {
                    (std::cmp::Ordering::Greater, _, _) => o.clone(),
                    (std::cmp::Ordering::Less, _, _) => t.clone(),
                    (_, true, false) => t.clone(),
                    _ => o.clone(),
                }
            });
            if !merged.is_empty() {
                sent.insert(sink.clone(), merged);
            }
        }
        Doc {
            format: FORMAT,
            sent,
            announced: merge_map(
                &base.announced,
                &ours.announced,
                &theirs.announced,
                |o, t| match (o.claimed, t.claimed) {
                    (true, false) => t.clone(),
                    (false, true) => o.clone(),
                    _ if t.at < o.at => t.clone(),
                    _ => o.clone(),
                },
            ),
            first_seen: merge_map(
                &base.first_seen,
                &ours.first_seen,
                &theirs.first_seen,
                |o, t| *o.min(t),
            ),
            last_run: match (&ours.last_run, &theirs.last_run) {
                (Some(o), Some(t)) if t.finished_at > o.finished_at => Some(t.clone()),
                (Some(o), _) => Some(o.clone()),
                (None, t) => t.clone(),
            },
        }
    }
}

/// Three-way merge of one map: `both` settles an entry both sides changed.
fn merge_map<V: Clone + PartialEq>(
    base: &BTreeMap<String, V>,
    ours: &BTreeMap<String, V>,
    theirs: &BTreeMap<String, V>,
    both: impl Fn(&V, &V) -> V,
) -> BTreeMap<String, V> {
    let keys: std::collections::BTreeSet<&String> = base
        .keys()
        .chain(ours.keys())
        .chain(theirs.keys())
        .collect();
    let mut out = BTreeMap::new();
    for key in keys {
        let (b, o, t) = (base.get(key), ours.get(key), theirs.get(key));
        let kept = if o == b {
            t.cloned()
        } else if t == b {
            o.cloned()
        } else {
            match (o, t) {
                (Some(o), Some(t)) => Some(both(o, t)),
                (Some(v), None) | (None, Some(v)) => Some(v.clone()),
                (None, None) => None,
            }
        };
        if let Some(v) = kept {
            out.insert(key.clone(), v);
        }
    }
    out
}

/// What can be saved of a corrupt document: every entry that still reads.
fn salvage(value: &Value) -> Doc {
    fn entries<T: serde::de::DeserializeOwned>(v: Option<&Value>) -> BTreeMap<String, T> {
        v.and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), serde_json::from_value(v.clone()).ok()?)))
                    .collect()
            })
            .unwrap_or_default()
    }
    let sent = value
        .get("sent")
        .and_then(Value::as_object)
        .map(|sinks| {
            sinks
                .iter()
                .map(|(sink, v)| (sink.clone(), entries::<Sent>(Some(v))))
                .filter(|(_, m)| !m.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let first_seen = entries::<String>(value.get("first_seen"))
        .into_iter()
        .filter_map(|(k, t)| {
            let at = OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339);
            Some((k, at.ok()?))
        })
        .collect();
    Doc {
        format: FORMAT,
        sent,
        announced: entries(value.get("announced")),
        first_seen,
        last_run: value
            .get("last_run")
            .and_then(|v| serde_json::from_value(v.clone()).ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn sent(at: OffsetDateTime, claimed: bool) -> Sent {
        Sent {
            fingerprint: "f".into(),
            sent_at: at,
            job: "quota".into(),
            claimed,
            alert: Value::Null,
        }
    }

    fn announced(at: OffsetDateTime) -> Announced {
        Announced {
            at,
            domain_id: "d".into(),
            claimed: false,
        }
    }

    const T0: OffsetDateTime = datetime!(2026-11-24 10:00 UTC);

    #[test]
    fn a_document_reads_back_as_written() {
        let mut doc = Doc::new();
        doc.sent
            .entry("webhook".into())
            .or_default()
            .insert("k".into(), sent(T0, false));
        doc.announced.insert("s/e".into(), announced(T0));
        doc.first_seen.insert("s/x".into(), T0);
        assert_eq!(Doc::parse(&doc.to_bytes()).unwrap(), doc);
    }

    #[test]
    fn each_writer_keeps_its_own_additions_and_the_latest_sending_and_earliest_sightings() {
        let hour = time::Duration::hours(1);
        let mut base = Doc::new();
        base.first_seen.insert("shared".into(), T0 + hour);
        base.sent
            .entry("smn".into())
            .or_default()
            .insert("gone".into(), sent(T0, false));
        let mut ours = base.clone();
        let mut theirs = base.clone();
        ours.sent
            .entry("webhook".into())
            .or_default()
            .insert("a".into(), sent(T0 + hour, false));
        theirs
            .sent
            .entry("webhook".into())
            .or_default()
            .insert("a".into(), sent(T0, false));
        theirs
            .sent
            .entry("webhook".into())
            .or_default()
            .insert("b".into(), sent(T0, false));
        ours.announced.insert("s/1".into(), announced(T0 + hour));
        theirs.announced.insert("s/1".into(), announced(T0));
        theirs.announced.insert("s/2".into(), announced(T0));
        ours.first_seen.insert("shared".into(), T0);
        theirs.first_seen.insert("shared".into(), T0 + hour + hour);
        // We cleared an alert they did not touch: it stays cleared.
        ours.sent.remove("smn");
        let merged = Doc::merge(&base, &ours, &theirs);
        assert_eq!(merged.sent["webhook"]["a"].sent_at, T0 + hour);
        assert!(merged.sent["webhook"].contains_key("b"));
        assert!(!merged.sent.contains_key("smn"));
        assert_eq!(merged.announced["s/1"].at, T0);
        assert!(merged.announced.contains_key("s/2"));
        assert_eq!(merged.first_seen["shared"], T0);
    }

    #[test]
    fn a_claim_gives_way_to_a_confirmed_sending_of_the_same_time() {
        let base = Doc::new();
        let mut ours = base.clone();
        let mut theirs = base.clone();
        ours.sent
            .entry("webhook".into())
            .or_default()
            .insert("a".into(), sent(T0, true));
        theirs
            .sent
            .entry("webhook".into())
            .or_default()
            .insert("a".into(), sent(T0, false));
        assert!(!Doc::merge(&base, &ours, &theirs).sent["webhook"]["a"].claimed);
    }

    #[test]
    fn a_corrupt_document_is_refused_with_the_reason_and_what_still_reads_is_saved() {
        let (why, saved) = Doc::parse(b"{\"format\": 1, \"sent\": {\"webhook\": {\"ok\": {\"fingerprint\": \"f\", \"sent_at\": \"2026-11-24T10:00:00Z\", \"job\": \"quota\", \"alert\": null}, \"bad\": 7}}, \"first_seen\": {\"s/e\": \"2026-11-24T10:00:00Z\", \"s/x\": \"yesterday\"}, \"announced\": []}").unwrap_err();
        assert!(matches!(why, Unreadable::Corrupt(_)), "{why:?}");
        assert_eq!(saved.sent["webhook"].len(), 1);
        assert_eq!(saved.first_seen.len(), 1);
        let (why, saved) = Doc::parse(b"{\"format\": 1, \"sent\": {\"webh").unwrap_err();
        assert!(matches!(why, Unreadable::Corrupt(ref m) if m.starts_with("not JSON")));
        assert_eq!(saved, Doc::new());
        assert!(matches!(
            Doc::parse(b"{\"format\": 9}").unwrap_err().0,
            Unreadable::Later(9)
        ));
        assert!(matches!(
            Doc::parse(b"[1, 2]").unwrap_err().0,
            Unreadable::Corrupt(_)
        ));
    }
}
