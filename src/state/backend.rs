//! The one small trait every store implements: read a document with its
//! version, write one only if the version is still the one read.

use futures_util::future::BoxFuture;

/// The largest state document read, in bytes: a document is a few KiB; a
/// larger one is refused as corrupt rather than read whole.
pub const MAX_DOC_BYTES: u64 = 8 * 1024 * 1024;

/// What identifies one written version of a document: the S3 ETag, or a
/// hash of a file's bytes, or a counter in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version(pub String);

/// A document as stored.
#[derive(Debug, Clone)]
pub struct Stored {
    pub bytes: Vec<u8>,
    pub version: Version,
}

/// What a conditional write expects to replace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// No document yet (S3: `If-None-Match: *`).
    Absent,
    /// This version (S3: `If-Match: <etag>`).
    Version(Version),
}

/// What a conditional write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Put {
    /// Written; the new version.
    Written(Version),
    /// Another writer got there first: nothing was written.
    Conflict,
}

/// A store that could not be read or written: what was tried and why. The
/// message names the store and the document, never a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("state store {location}: {action} {key} failed: {message}")]
pub struct StoreError {
    pub location: String,
    /// `read`, `write` or `delete`.
    pub action: &'static str,
    pub key: String,
    pub message: String,
}

/// Where documents live. Keys are relative (`projects/{id}.json`); each
/// backend places them under its own directory or prefix.
pub trait Backend: Send + Sync + std::fmt::Debug {
    /// The document at `key`, or `None` when there is none.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Stored>, StoreError>>;

    /// Writes `bytes` at `key` only if what is there is `expected`.
    fn put<'a>(
        &'a self,
        key: &'a str,
        bytes: Vec<u8>,
        expected: &'a Expected,
    ) -> BoxFuture<'a, Result<Put, StoreError>>;

    /// Removes the document at `key` (gone already is success).
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;
}
