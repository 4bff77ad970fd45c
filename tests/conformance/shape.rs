//! The shape of a request, as the conformance test compares it: method,
//! path, query names, body keys (recursively), the signed headers and the
//! `Content-Type`; and the readable difference between two shapes.

use std::collections::BTreeSet;
use std::fmt::Write;

use serde_json::Value;

use crate::scripted::Seen;

/// What of a request must match the official SDK's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    pub method: String,
    pub path: String,
    pub query: BTreeSet<String>,
    pub body: BTreeSet<String>,
    pub signed: BTreeSet<String>,
    pub content_type: String,
}

impl Shape {
    pub fn of(seen: &Seen) -> Self {
        let signed = seen
            .header("Authorization")
            .and_then(|a| hwcloud_sign::Authorization::parse(a).ok())
            .map(|a| a.signed_headers.into_iter().collect())
            .unwrap_or_default();
        let mut body = BTreeSet::new();
        if !seen.body.is_empty() {
            match serde_json::from_slice::<Value>(&seen.body) {
                Ok(value) => keys(&value, "", &mut body),
                Err(_) => {
                    body.insert("(not JSON)".to_owned());
                }
            }
        }
        Self {
            method: seen.method.clone(),
            path: seen.path.clone(),
            query: url::form_urlencoded::parse(seen.query.as_bytes())
                .map(|(k, _)| k.into_owned())
                .collect(),
            body,
            signed,
            content_type: seen
                .header("Content-Type")
                .unwrap_or("(none)")
                .to_ascii_lowercase()
                .replace(' ', ""),
        }
    }

    /// One line per aspect in which `self` (the warden's) differs from `sdk`.
    pub fn differences(&self, sdk: &Shape) -> Vec<(Aspect, String)> {
        let mut out = Vec::new();
        let mut scalar = |aspect, ours: &str, theirs: &str| {
            if ours != theirs {
                out.push((aspect, format!("SDK {theirs:?}, warden {ours:?}")));
            }
        };
        scalar(Aspect::Method, &self.method, &sdk.method);
        scalar(Aspect::Path, &self.path, &sdk.path);
        scalar(Aspect::ContentType, &self.content_type, &sdk.content_type);
        for (aspect, ours, theirs) in [
            (Aspect::Query, &self.query, &sdk.query),
            (Aspect::Body, &self.body, &sdk.body),
            (Aspect::Signed, &self.signed, &sdk.signed),
        ] {
            if ours != theirs {
                let only = |a: &BTreeSet<String>, b: &BTreeSet<String>| {
                    a.difference(b).cloned().collect::<Vec<_>>().join(", ")
                };
                let mut line = String::new();
                let sdk_only = only(theirs, ours);
                let warden_only = only(ours, theirs);
                if !sdk_only.is_empty() {
                    let _ = write!(line, "only the SDK sends [{sdk_only}]");
                }
                if !warden_only.is_empty() {
                    if !line.is_empty() {
                        line.push_str("; ");
                    }
                    let _ = write!(line, "only the warden sends [{warden_only}]");
                }
                out.push((aspect, line));
            }
        }
        out
    }
}

/// What differs between two requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aspect {
    /// The number of requests an operation makes.
    Requests,
    Method,
    Path,
    Query,
    Body,
    Signed,
    ContentType,
}

impl Aspect {
    pub fn name(self) -> &'static str {
        match self {
            Aspect::Requests => "requests",
            Aspect::Method => "method",
            Aspect::Path => "path",
            Aspect::Query => "query names",
            Aspect::Body => "body keys",
            Aspect::Signed => "signed headers",
            Aspect::ContentType => "Content-Type",
        }
    }
}

/// Every key path of a JSON value: `a`, `a.b`, `a.list[].c`.
fn keys(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.insert(path.clone());
                keys(v, &path, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                keys(item, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}
