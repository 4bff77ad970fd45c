//! `check` of the state store: readable and writable (a probe document
//! written, read back and removed), and how each target's document reads.

use serde::Serialize;

use super::doc::{Doc, Unreadable};
use super::Store;

/// What `check` found of the store.
#[derive(Debug, Clone, Serialize)]
pub struct StateCheck {
    /// `memory`, `file:///dir` or `s3://bucket/prefix`.
    pub location: String,
    /// Whether what is kept outlives the process.
    pub durable: bool,
    /// Whether a probe document could be written, read back and removed.
    pub writable: bool,
    /// Why not, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Each target's document.
    pub documents: Vec<DocumentCheck>,
}

/// How one document reads.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentCheck {
    pub key: String,
    /// `absent` (no run wrote it yet), `ok`, `corrupt` (the next run
    /// rebuilds it), `later format` or `unreadable`.
    pub status: &'static str,
    /// The reason, when not `ok` or `absent`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// When the last run that wrote it finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_run_at: Option<String>,
}

/// Checks `store` and the documents at `keys`.
pub async fn check(store: &Store, keys: &[String]) -> StateCheck {
    let probe = store.check().await;
    let mut documents = Vec::with_capacity(keys.len());
    for key in keys {
        let (status, detail, last_run_at) = match store.backend().get(key).await {
            Ok(None) => ("absent", None, None),
            Ok(Some(stored)) => match Doc::parse(&stored.bytes) {
                Ok(doc) => {
                    let at = doc.last_run.and_then(|r| {
                        r.finished_at
                            .format(&time::format_description::well_known::Rfc3339)
                            .ok()
                    });
                    ("ok", None, at)
                }
                Err((Unreadable::Corrupt(why), _)) => ("corrupt", Some(why), None),
                Err((Unreadable::Later(format), _)) => (
                    "later format",
                    Some(format!("format {format}: written by a later vpcep-warden")),
                    None,
                ),
            },
            Err(e) => ("unreadable", Some(e.to_string()), None),
        };
        documents.push(DocumentCheck {
            key: key.clone(),
            status,
            detail,
            last_run_at,
        });
    }
    StateCheck {
        location: store.location().to_owned(),
        durable: store.is_durable(),
        writable: probe.is_ok(),
        error: probe.err().map(|e| e.to_string()),
        documents,
    }
}
