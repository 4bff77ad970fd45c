//! A waiting connection announced, as the state document keeps it.
//!
//! Each record is written with its service and endpoint ids, as every
//! version of the document has them, but held without them: they are its
//! key (`{service_id}/{endpoint_id}`), and a tick that announces thousands
//! of connections holds a few copies of the document at once.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A waiting connection announced (its key names the service and endpoint).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Announced {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub domain_id: String,
    /// As [`super::Sent::claimed`].
    #[serde(default)]
    pub claimed: bool,
}

/// One record as written: the ids of its key beside its own fields.
#[derive(Serialize)]
struct Written<'a> {
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    service_id: &'a str,
    endpoint_id: &'a str,
    domain_id: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    claimed: bool,
}

/// The `announced` map of a document: written with each record's ids, read
/// by key (ids written in a record are not read back: the key says them).
pub mod by_key {
    use std::collections::BTreeMap;

    use serde::ser::SerializeMap;
    use serde::{Deserialize, Deserializer, Serializer};

    use super::{Announced, Written};

    pub fn serialize<S: Serializer>(
        map: &BTreeMap<String, Announced>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let mut out = s.serialize_map(Some(map.len()))?;
        for (key, a) in map {
            let (service_id, endpoint_id) = key.split_once('/').unwrap_or((key, ""));
            let written = Written {
                at: a.at,
                service_id,
                endpoint_id,
                domain_id: &a.domain_id,
                claimed: a.claimed,
            };
            out.serialize_entry(key, &written)?;
        }
        out.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, Announced>, D::Error> {
        BTreeMap::deserialize(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Serialize, Deserialize)]
    struct Doc {
        #[serde(with = "by_key")]
        announced: BTreeMap<String, Announced>,
    }

    #[test]
    fn a_record_is_written_with_the_ids_of_its_key_and_read_back_by_key() {
        let at = time::macros::datetime!(2026-12-02 10:00 UTC);
        let a = Announced {
            at,
            domain_id: "d1".into(),
            claimed: true,
        };
        let doc = Doc {
            announced: BTreeMap::from([("s1/e1".to_owned(), a.clone())]),
        };
        let text = serde_json::to_value(&doc).unwrap();
        assert_eq!(
            text["announced"]["s1/e1"],
            serde_json::json!({"at": "2026-12-02T10:00:00Z", "service_id": "s1",
                "endpoint_id": "e1", "domain_id": "d1", "claimed": true})
        );
        let back: Doc = serde_json::from_value(text).unwrap();
        assert_eq!(back.announced["s1/e1"], a);
    }
}
