//! Lenient field readers: the VPCEP API sends some fields as strings in one
//! answer and as numbers or booleans in another (`marker_id`, ports,
//! `enable_dns`, `used`, `total_count`), sometimes `null`, and `error` as an
//! object or an array. Every such field goes through one of these readers.

use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde::Deserialize;
use serde_json::Value;

/// A string from a string, number or boolean; `null` reads as empty.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(opt_string(d)?.unwrap_or_default())
}

/// An optional string from a string, number or boolean; `null` reads as `None`.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        other => Err(D::Error::custom(format!(
            "expected a string or a number, got {}",
            kind(&other)
        ))),
    }
}

/// A boolean from `true`/`false`, `"true"`/`"false"` (any case), `1`/`0` or
/// `"1"`/`"0"`; `null` reads as `false`.
pub fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let v = Value::deserialize(d)?;
    match &v {
        Value::Null => Ok(false),
        Value::Bool(b) => Ok(*b),
        Value::Number(n) if n.as_u64() == Some(1) => Ok(true),
        Value::Number(n) if n.as_u64() == Some(0) => Ok(false),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(true),
            "false" | "0" | "" => Ok(false),
            _ => Err(D::Error::custom(format!("expected a boolean, got {s:?}"))),
        },
        other => Err(D::Error::custom(format!(
            "expected a boolean, got {}",
            kind(other)
        ))),
    }
}

/// A count from a non-negative integer or a string holding one; `null` reads as 0.
pub fn count<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(opt_count(d)?.unwrap_or_default())
}

/// An optional count from a non-negative integer or a string holding one.
pub fn opt_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let v = Value::deserialize(d)?;
    match &v {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_u64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u64::MAX as f64)
                    .map(|f| f as u64)
            })
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("expected a count, got {n}"))),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| D::Error::custom(format!("expected a count, got {s:?}"))),
        other => Err(D::Error::custom(format!(
            "expected a count, got {}",
            kind(other)
        ))),
    }
}

/// A limit: a count as [`count`] reads it, or `-1` (`"-1"`) for no limit
/// (`None`), as some Huawei APIs send an unlimited quota.
pub fn limit<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let v = Value::deserialize(d)?;
    let unlimited = match &v {
        Value::Number(n) => n.as_i64() == Some(-1),
        Value::String(s) => s.trim() == "-1",
        _ => false,
    };
    if unlimited {
        return Ok(None);
    }
    count(v).map(Some).map_err(D::Error::custom)
}

/// A list from an array, a single object (a list of one) or `null` (empty).
pub fn one_or_many<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    match Value::deserialize(d)? {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .into_iter()
            .map(|item| serde_json::from_value(item).map_err(D::Error::custom))
            .collect(),
        Value::Object(map) if map.is_empty() => Ok(Vec::new()),
        single @ Value::Object(_) => serde_json::from_value(single)
            .map(|item| vec![item])
            .map_err(D::Error::custom),
        other => Err(D::Error::custom(format!(
            "expected an array or an object, got {}",
            kind(&other)
        ))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug)]
    struct Probe {
        #[serde(default, deserialize_with = "opt_string")]
        marker: Option<String>,
        #[serde(default, deserialize_with = "boolean")]
        flag: bool,
        #[serde(default, deserialize_with = "count")]
        n: u64,
        #[serde(default, deserialize_with = "one_or_many")]
        list: Vec<u8>,
    }

    fn probe(json: &str) -> Result<Probe, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn strings_numbers_and_booleans_are_read_alike() {
        let a = probe(r#"{"marker": 16777510, "flag": "true", "n": "42"}"#);
        let a = a.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.marker.as_deref(), Some("16777510"));
        assert!(a.flag);
        assert_eq!(a.n, 42);
        let b = probe(r#"{"marker": "16777510", "flag": 1, "n": 42, "list": [1, 2]}"#).unwrap();
        assert_eq!(b.marker, a.marker);
        assert!(b.flag);
        assert_eq!(b.n, 42);
        assert_eq!(b.list, vec![1, 2]);
    }

    #[test]
    fn null_and_absent_read_as_defaults() {
        let p = probe(r#"{"marker": null, "flag": null, "n": null, "list": null}"#).unwrap();
        assert_eq!((p.marker, p.flag, p.n, p.list.len()), (None, false, 0, 0));
        let p = probe("{}").unwrap();
        assert_eq!((p.marker, p.flag, p.n, p.list.len()), (None, false, 0, 0));
    }

    #[test]
    fn nonsense_is_an_error_not_a_guess() {
        assert!(probe(r#"{"flag": "maybe"}"#).is_err());
        assert!(probe(r#"{"n": -3}"#).is_err());
        assert!(probe(r#"{"n": "lots"}"#).is_err());
        assert!(probe(r#"{"marker": [1]}"#).is_err());
    }
}
