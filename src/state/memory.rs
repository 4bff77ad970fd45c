//! `WARDEN_STATE=memory`: documents in the process, with the same
//! conditional writes as the other stores, so two runs of one `serve`
//! process never double-send either.

use std::collections::HashMap;
use std::sync::Mutex;

use futures_util::future::{BoxFuture, FutureExt};

use super::backend::{Backend, Expected, Put, StoreError, Stored, Version};

/// Documents by key, each with the counter of its last write.
#[derive(Debug, Default)]
pub struct MemoryBackend {
    docs: Mutex<HashMap<String, (Vec<u8>, u64)>>,
}

impl Backend for MemoryBackend {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Stored>, StoreError>> {
        let docs = self.docs.lock().unwrap_or_else(|e| e.into_inner());
        let found = docs.get(key).map(|(bytes, n)| Stored {
            bytes: bytes.clone(),
            version: Version(n.to_string()),
        });
        async move { Ok(found) }.boxed()
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        bytes: Vec<u8>,
        expected: &'a Expected,
    ) -> BoxFuture<'a, Result<Put, StoreError>> {
        let mut docs = self.docs.lock().unwrap_or_else(|e| e.into_inner());
        let current = docs.get(key).map(|(_, n)| Version(n.to_string()));
        let matches = match (expected, &current) {
            (Expected::Absent, None) => true,
            (Expected::Version(v), Some(c)) => v == c,
            _ => false,
        };
        let put = if matches {
            let next = docs.get(key).map_or(1, |(_, n)| n + 1);
            docs.insert(key.to_owned(), (bytes, next));
            Put::Written(Version(next.to_string()))
        } else {
            Put::Conflict
        };
        async move { Ok(put) }.boxed()
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        self.docs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
        async move { Ok(()) }.boxed()
    }
}
