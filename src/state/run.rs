//! One run's hold on one target's document: read once when the run starts,
//! claimed before anything due is sent, written once when the run ends.
//!
//! - **Claim** ([`Run::claim`]): what is about to be sent (an alert due at a
//!   sink, a connection to announce) is written first, conditionally. A
//!   concurrent run that wrote in between makes the write conflict: its
//!   document is read again, this run's own changes are merged onto it, and
//!   what is due is decided again on the merged document, so the alert the
//!   other run claimed is no longer due here. At most [`MAX_TRIES`] tries.
//! - **Failure**: a store that cannot be read is written to by no one in
//!   this run (its version is unknown); alerts are then sent as if nothing
//!   had been sent before (a duplicate beats a missed alert), and
//!   [`Run::problem`] says why for the report.
//! - **Corrupt document**: refused with the reason, rebuilt from what still
//!   reads of it ([`super::Doc::parse`]) and this run, and written over it.
//! - **Dry run**: read, never written.

use tokio::sync::Mutex;

use super::backend::{Expected, Put, StoreError};
use super::doc::{Doc, Unreadable};
use super::Store;

/// Conditional writes tried before a run gives up writing.
pub const MAX_TRIES: usize = 5;

/// How the document was found when the run started.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Found {
    /// Read (or there was none yet).
    Read,
    /// Corrupt: the reason; rebuilt and written over.
    Corrupt(String),
    /// Not read (unreachable store, or a later warden's format): nothing is
    /// written this run.
    Failed(String),
}

struct Inner {
    /// The document as last read from or written to the store.
    base: Doc,
    /// `base` with this run's changes.
    work: Doc,
    /// What a write replaces.
    expected: Expected,
    /// Why writing stopped in this run, if it did.
    write_failed: Option<String>,
}

/// One target's document for one run.
pub struct Run {
    store: Option<Store>,
    key: String,
    found: Found,
    read_only: bool,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run")
            .field("key", &self.key)
            .field("found", &self.found)
            .finish_non_exhaustive()
    }
}

impl Run {
    /// A document kept by nothing but this value (sinks used on their own).
    pub fn detached() -> Self {
        Self {
            store: None,
            key: String::new(),
            found: Found::Read,
            read_only: false,
            inner: Mutex::new(Inner {
                base: Doc::new(),
                work: Doc::new(),
                expected: Expected::Absent,
                write_failed: None,
            }),
        }
    }

    /// Reads the document at `key`; `read_only` for a dry run.
    pub async fn open(store: &Store, key: String, read_only: bool) -> Self {
        let (found, base, expected) = match store.backend().get(&key).await {
            Ok(None) => (Found::Read, Doc::new(), Expected::Absent),
            Ok(Some(stored)) => match Doc::parse(&stored.bytes) {
                Ok(doc) => (Found::Read, doc, Expected::Version(stored.version)),
                Err((Unreadable::Corrupt(why), saved)) => (
                    Found::Corrupt(format!(
                        "state document {key} in {} is not a state document ({why}): refused, rebuilt from what still reads of it and this run",
                        store.location()
                    )),
                    saved,
                    Expected::Version(stored.version),
                ),
                Err((Unreadable::Later(format), _)) => (
                    Found::Failed(format!(
                        "state document {key} in {} has format {format}, written by a later vpcep-warden: left alone (upgrade this one)",
                        store.location()
                    )),
                    Doc::new(),
                    Expected::Absent,
                ),
            },
            Err(e) => (Found::Failed(e.to_string()), Doc::new(), Expected::Absent),
        };
        if let Found::Corrupt(why) | Found::Failed(why) = &found {
            tracing::error!(key = %key, "{why}");
        }
        Self {
            store: Some(store.clone()),
            key,
            found,
            read_only,
            inner: Mutex::new(Inner {
                work: base.clone(),
                base,
                expected,
                write_failed: None,
            }),
        }
    }

    /// Why the document could not be taken as stored, or written (for the
    /// report's errors).
    pub async fn problem(&self) -> Option<String> {
        match &self.found {
            Found::Corrupt(why) | Found::Failed(why) => Some(why.clone()),
            Found::Read => self.inner.lock().await.write_failed.clone(),
        }
    }

    /// Whether what the document says outlives the process and was read:
    /// a durable store (file, S3 API) whose document read cleanly.
    pub fn remembers(&self) -> bool {
        self.found == Found::Read && self.store.as_ref().is_some_and(Store::is_durable)
    }

    /// Why a durable store could not be relied on in this run (unreachable,
    /// corrupt or of a later format): what needs its first sightings
    /// (revocation) does not proceed.
    pub fn failed(&self) -> Option<&str> {
        match &self.found {
            Found::Corrupt(why) | Found::Failed(why)
                if self.store.as_ref().is_some_and(Store::is_durable) =>
            {
                Some(why)
            }
            _ => None,
        }
    }

    /// Reads the document (with this run's changes).
    pub async fn view<T>(&self, read: impl FnOnce(&Doc) -> T) -> T {
        read(&self.inner.lock().await.work)
    }

    /// Changes the document; written when the run ends.
    pub async fn update<T>(&self, change: impl FnOnce(&mut Doc) -> T) -> T {
        change(&mut self.inner.lock().await.work)
    }

    /// Changes the document with `decide` and writes it at once, so a
    /// concurrent run sees the change before this one acts on it. On a
    /// conflict, `decide` runs again on the other writer's document (with
    /// this run's earlier changes merged in). Returns what the last `decide`
    /// returned: what to act on. When the write cannot be made, that is what
    /// was decided on this run's own view (sent anyway: a duplicate beats a
    /// missed alert).
    pub async fn claim<T>(&self, decide: impl Fn(&mut Doc) -> T) -> T {
        let mut inner = self.inner.lock().await;
        let mut before = inner.work.clone();
        let mut decided = decide(&mut inner.work);
        if inner.work == before {
            return decided;
        }
        let Some(store) = self.writable(&inner) else {
            return decided;
        };
        for _ in 0..MAX_TRIES {
            let read_before = inner.base.clone();
            match self.put(store, &mut inner).await {
                Ok(true) => return decided,
                Ok(false) => {
                    // This run's earlier changes onto theirs, then decide again.
                    before = Doc::merge(&read_before, &before, &inner.base);
                    inner.work = before.clone();
                    decided = decide(&mut inner.work);
                    if inner.work == before {
                        return decided;
                    }
                }
                Err(why) => {
                    inner.write_failed = Some(why);
                    return decided;
                }
            }
        }
        inner.write_failed = Some(self.gave_up(store));
        decided
    }

    /// Writes this run's changes (merged onto any concurrent writer's) when
    /// the run ends.
    pub async fn save(&self) {
        let mut inner = self.inner.lock().await;
        let Some(store) = self.writable(&inner) else {
            return;
        };
        if inner.work == inner.base && self.found == Found::Read {
            return;
        }
        for _ in 0..MAX_TRIES {
            match self.put(store, &mut inner).await {
                Ok(true) => return,
                Ok(false) => {}
                Err(why) => {
                    inner.write_failed = Some(why);
                    return;
                }
            }
        }
        inner.write_failed = Some(self.gave_up(store));
    }

    /// The store, when this run may write to it.
    fn writable(&self, inner: &Inner) -> Option<&Store> {
        let failed = matches!(self.found, Found::Failed(_)) || inner.write_failed.is_some();
        self.store.as_ref().filter(|_| !failed && !self.read_only)
    }

    fn gave_up(&self, store: &Store) -> String {
        format!(
            "state document {} in {}: {MAX_TRIES} writes in a row met a concurrent writer's; this run's changes are not kept",
            self.key,
            store.location()
        )
    }

    /// One conditional write of `work`: `Ok(true)` written; `Ok(false)`
    /// another writer's document came first, and is now `base` with this
    /// run's changes merged onto it in `work`.
    async fn put(&self, store: &Store, inner: &mut Inner) -> Result<bool, String> {
        let bytes = inner.work.to_bytes();
        let fail = |e: StoreError| {
            tracing::error!(error = %e, "the state document could not be written");
            e.to_string()
        };
        match store
            .backend()
            .put(&self.key, bytes, &inner.expected)
            .await
            .map_err(fail)?
        {
            Put::Written(version) => {
                inner.base = inner.work.clone();
                inner.expected = Expected::Version(version);
                Ok(true)
            }
            Put::Conflict => {
                let theirs = store.backend().get(&self.key).await.map_err(fail)?;
                let (doc, expected) = match theirs {
                    None => (Doc::new(), Expected::Absent),
                    Some(stored) => {
                        let doc = Doc::parse(&stored.bytes).unwrap_or_else(|(_, saved)| saved);
                        (doc, Expected::Version(stored.version))
                    }
                };
                inner.work = Doc::merge(&inner.base, &inner.work, &doc);
                inner.base = doc;
                inner.expected = expected;
                Ok(false)
            }
        }
    }
}
