//! An alert's facts: a few named values (`used`, `quota`, `percent`;
//! `service_id`, `endpoint_id`, `domain_id`; `count`), kept in name order in
//! one small allocation. A map per alert cost about 600 bytes more, and a
//! tick that announces thousands of waiting connections raises thousands of
//! alerts at once.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

/// Named values, in name order, each name once; serialized as a JSON object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts(Vec<(Cow<'static, str>, Value)>);

impl Facts {
    /// The facts `pairs` name (a later pair of the same name wins).
    pub fn of<const N: usize>(pairs: [(&'static str, Value); N]) -> Self {
        let mut facts = Self(Vec::with_capacity(N));
        for (name, value) in pairs {
            facts.insert(name, value);
        }
        facts
    }

    /// Sets the fact `name`, replacing any value it had.
    pub fn insert(&mut self, name: impl Into<Cow<'static, str>>, value: Value) {
        let name = name.into();
        match self.0.binary_search_by(|(n, _)| n.as_ref().cmp(&name)) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (name, value)),
        }
    }

    /// The value of the fact `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0
            .binary_search_by(|(n, _)| n.as_ref().cmp(name))
            .ok()
            .map(|i| &self.0[i].1)
    }

    /// The facts, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(n, v)| (n.as_ref(), v))
    }
}

impl Serialize for Facts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name.as_ref(), value)?;
        }
        map.end()
    }
}

impl From<BTreeMap<String, Value>> for Facts {
    fn from(map: BTreeMap<String, Value>) -> Self {
        Self(map.into_iter().map(|(n, v)| (Cow::Owned(n), v)).collect())
    }
}

impl From<&Facts> for BTreeMap<String, Value> {
    fn from(facts: &Facts) -> Self {
        facts
            .iter()
            .map(|(n, v)| (n.to_owned(), v.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_serialize_in_name_order_and_a_name_set_twice_keeps_the_last_value() {
        let mut facts = Facts::of([
            ("service_id", Value::from("s1")),
            ("endpoint_id", Value::from("e1")),
            ("count", Value::from(2)),
        ]);
        facts.insert("count", Value::from(3));
        facts.insert("target".to_owned(), Value::from("bj"));
        assert_eq!(
            serde_json::to_string(&facts).unwrap(),
            r#"{"count":3,"endpoint_id":"e1","service_id":"s1","target":"bj"}"#
        );
        assert_eq!(facts.get("endpoint_id"), Some(&Value::from("e1")));
        assert_eq!(facts.get("domain_id"), None);
        let kept = BTreeMap::from(&facts);
        assert_eq!(Facts::from(kept), facts);
    }
}
