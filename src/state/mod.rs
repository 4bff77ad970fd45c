//! What must outlive the process (`WARDEN_STATE`): per target, what each
//! sink was sent and when, which waiting connections were announced, when
//! revocable connections were first seen, and the last run's summary.
//!
//! One small JSON document per target ([`Doc`]), behind one small trait
//! ([`Backend`]) with three stores: `memory` (the process), `file://` (a
//! directory of one machine) and `s3://` (any S3 API: AWS S3, Huawei OBS,
//! MinIO). A run reads its document once, claims what it is about to send,
//! and writes it once at the end ([`Run`]); every write is conditional, so
//! two runs at once never both send the same alert.
//!
//! Documents: `projects/{project_id}.json` for the one target of plain
//! settings, `targets/{name}.json` for each of `WARDEN_TARGETS`, under the
//! directory or key prefix of `WARDEN_STATE`.

mod announced;
mod backend;
mod check;
mod doc;
mod file;
mod memory;
mod run;
mod s3;

use std::sync::Arc;

pub use announced::Announced;
pub use backend::{Backend, Expected, Put, StoreError, Stored, Version, MAX_DOC_BYTES};
pub use check::{check, DocumentCheck, StateCheck};
pub use doc::{connection_key, Doc, LastRun, Sent, CLAIM_HOLDS, FORMAT};
pub use run::{Run, MAX_TRIES};

use crate::config::{Credentials, S3Credentials, Settings, StateLocation};

/// A store of state documents, shared by every run of the process.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Arc<dyn Backend>,
    location: String,
    durable: bool,
    /// The S3 credentials an invocation replaces (FunctionGraph's agency's).
    per_invocation: Option<Arc<s3::Keys>>,
}

impl Store {
    /// The store `settings` name (`WARDEN_STATE`). Never fails: a client
    /// that cannot be set up fails each read and write with the reason.
    pub fn from_settings(settings: &Settings) -> Self {
        let state = &settings.state;
        let location = state.location.describe();
        let durable = state.location.is_durable();
        match (&state.location, &state.s3) {
            (StateLocation::File(dir), _) => Self::of(
                Arc::new(file::FileBackend::new(dir.clone())),
                location,
                durable,
            ),
            (StateLocation::S3 { bucket, prefix }, Some(access)) => {
                let keys = Arc::new(s3::Keys::default());
                let limits = s3::Limits {
                    timeout: std::time::Duration::from_secs(settings.http_timeout_secs.max(1)),
                    max_retries: settings.max_retries,
                };
                let backend = s3::S3Backend::new(bucket, prefix, access, keys.clone(), limits);
                let per_invocation =
                    (access.credentials == S3Credentials::PerInvocation).then_some(keys);
                Self {
                    per_invocation,
                    ..Self::of(Arc::new(backend), location, durable)
                }
            }
            _ => Self::memory(),
        }
    }

    /// A store in this process only.
    pub fn memory() -> Self {
        Self::of(
            Arc::new(memory::MemoryBackend::default()),
            "memory".into(),
            false,
        )
    }

    /// A store over any backend (tests use failing ones).
    pub fn of(backend: Arc<dyn Backend>, location: String, durable: bool) -> Self {
        Self {
            backend,
            location,
            durable,
            per_invocation: None,
        }
    }

    /// Signs S3 requests with the credentials an invocation brought, when
    /// the store takes each invocation's (FunctionGraph's agency credentials).
    pub fn use_credentials(&self, credentials: &Credentials) {
        if let Some(keys) = &self.per_invocation {
            keys.set(credentials);
        }
    }

    pub fn backend(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

    /// `memory`, `file:///dir` or `s3://bucket/prefix`.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Whether documents outlive the process.
    pub fn is_durable(&self) -> bool {
        self.durable
    }

    /// The document of the one target of plain settings.
    pub fn project_key(project_id: &str) -> String {
        format!("projects/{project_id}.json")
    }

    /// The document of a target of `WARDEN_TARGETS`.
    pub fn target_key(name: &str) -> String {
        format!("targets/{name}.json")
    }

    /// Checks the store is readable and writable: writes a probe document,
    /// reads it back, removes it.
    pub async fn check(&self) -> Result<(), StoreError> {
        let key = format!(
            "checks/{}-{:08x}.json",
            std::process::id(),
            rand::random::<u32>()
        );
        let probe = b"{\"check\": \"vpcep-warden\"}".to_vec();
        let bad = |message: String| StoreError {
            location: self.location.clone(),
            action: "check",
            key: key.clone(),
            message,
        };
        match self
            .backend
            .put(&key, probe.clone(), &Expected::Absent)
            .await?
        {
            Put::Written(_) => {}
            Put::Conflict => return Err(bad("a probe document of this name exists".into())),
        }
        let read = self.backend.get(&key).await?;
        self.backend.delete(&key).await?;
        match read {
            Some(stored) if stored.bytes == probe => Ok(()),
            Some(_) => Err(bad(
                "the probe read back differs from what was written".into()
            )),
            None => Err(bad("the probe written could not be read back".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs() -> Store {
        Store::of(
            Arc::new(memory::MemoryBackend::default()),
            "test".into(),
            true,
        )
    }

    fn claim_alert(doc: &mut Doc, key: &str) -> bool {
        let sink = doc.sent.entry("webhook".into()).or_default();
        if sink.contains_key(key) {
            return false;
        }
        sink.insert(
            key.into(),
            Sent {
                fingerprint: "f".into(),
                sent_at: time::OffsetDateTime::now_utc(),
                job: "quota".into(),
                claimed: true,
                alert: serde_json::Value::Null,
            },
        );
        true
    }

    #[tokio::test]
    async fn of_two_runs_that_read_the_same_document_only_one_claims_an_alert() {
        let store = docs();
        let key = Store::project_key("p");
        let (a, b) = (
            Run::open(&store, key.clone(), false).await,
            Run::open(&store, key.clone(), false).await,
        );
        a.update(|d| {
            d.first_seen
                .insert("s/a".into(), time::OffsetDateTime::now_utc())
        })
        .await;
        b.update(|d| {
            d.first_seen
                .insert("s/b".into(), time::OffsetDateTime::now_utc())
        })
        .await;
        assert!(
            a.claim(|d| claim_alert(d, "x")).await,
            "the first run claims it"
        );
        assert!(
            !b.claim(|d| claim_alert(d, "x")).await,
            "the second run, on conflict, finds it claimed"
        );
        a.save().await;
        b.save().await;
        let stored = store.backend().get(&key).await.unwrap().unwrap();
        let doc = Doc::parse(&stored.bytes).unwrap();
        assert_eq!(doc.first_seen.len(), 2, "both runs' own changes are kept");
        assert_eq!(doc.sent["webhook"].len(), 1);
        assert!(a.problem().await.is_none() && b.problem().await.is_none());
    }

    #[derive(Debug)]
    struct Down;

    impl Backend for Down {
        fn get<'a>(
            &'a self,
            key: &'a str,
        ) -> futures_util::future::BoxFuture<'a, Result<Option<Stored>, StoreError>> {
            Box::pin(async move {
                Err(StoreError {
                    location: "s3://down".into(),
                    action: "read",
                    key: key.into(),
                    message: "connection refused".into(),
                })
            })
        }
        fn put<'a>(
            &'a self,
            _: &'a str,
            _: Vec<u8>,
            _: &'a Expected,
        ) -> futures_util::future::BoxFuture<'a, Result<Put, StoreError>> {
            panic!("a store that could not be read is not written")
        }
        fn delete<'a>(
            &'a self,
            _: &'a str,
        ) -> futures_util::future::BoxFuture<'a, Result<(), StoreError>> {
            panic!("not deleted either")
        }
    }

    #[tokio::test]
    async fn an_unreachable_store_is_never_written_and_says_why() {
        let store = Store::of(Arc::new(Down), "s3://down".into(), true);
        let run = Run::open(&store, Store::project_key("p"), false).await;
        assert!(run.claim(|d| claim_alert(d, "x")).await, "due: sent anyway");
        run.save().await;
        assert!(!run.remembers());
        assert!(run.failed().is_some());
        let why = run.problem().await.unwrap();
        assert!(
            why.contains("connection refused") && why.contains("s3://down"),
            "{why}"
        );
    }

    #[tokio::test]
    async fn a_corrupt_document_is_reported_then_rebuilt() {
        let store = docs();
        let key = Store::project_key("p");
        store
            .backend()
            .put(
                &key,
                b"{\"format\": 1, \"sent\": [".to_vec(),
                &Expected::Absent,
            )
            .await
            .unwrap();
        let run = Run::open(&store, key.clone(), false).await;
        let why = run.problem().await.unwrap();
        assert!(
            why.contains("not a state document") && why.contains(&key),
            "{why}"
        );
        assert!(run.failed().is_some());
        run.claim(|d| claim_alert(d, "x")).await;
        run.save().await;
        let again = Run::open(&store, key, false).await;
        assert!(again.problem().await.is_none());
        assert!(again.view(|d| d.sent["webhook"].contains_key("x")).await);
    }

    #[tokio::test]
    async fn a_dry_run_reads_but_never_writes() {
        let store = docs();
        let key = Store::project_key("p");
        let run = Run::open(&store, key.clone(), true).await;
        run.claim(|d| claim_alert(d, "x")).await;
        run.save().await;
        assert!(store.backend().get(&key).await.unwrap().is_none());
    }
}
