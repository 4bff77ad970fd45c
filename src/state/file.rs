//! `WARDEN_STATE=file:///dir`: documents as files of one machine (a host, or
//! a container's volume).
//!
//! A conditional update on the standard library alone: a write takes an
//! exclusive lock on `{document}.lock` (`flock`; the kernel releases it when the process ends,
//! so a crash leaves no stale lock), compares the document's SHA-256 with the
//! version read, writes a temporary file, `fsync`s it and renames it over the
//! document (atomic on one file system: a reader sees the old or the new
//! document, never half of one). A reader takes no lock. Locks are advisory
//! and reliable on a local file system; on a network file system they hold
//! only as far as that file system implements them.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures_util::future::{BoxFuture, FutureExt};
use sha2::{Digest, Sha256};

use super::backend::{Backend, Expected, Put, StoreError, Stored, Version, MAX_DOC_BYTES};

/// How long a write waits for another process's lock (held only for the
/// moment of one write) before it gives up.
const LOCK_WAIT: Duration = Duration::from_secs(5);

/// Documents under one directory.
#[derive(Debug)]
pub struct FileBackend {
    dir: PathBuf,
}

impl FileBackend {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    fn location(&self) -> String {
        format!("file://{}", self.dir.display())
    }

    fn error(&self, action: &'static str, key: &str, message: String) -> StoreError {
        StoreError {
            location: self.location(),
            action,
            key: key.to_owned(),
            message,
        }
    }

    /// Runs blocking file work off the async threads.
    async fn blocking<T: Send + 'static>(
        &self,
        action: &'static str,
        key: &str,
        work: impl FnOnce() -> Result<T, String> + Send + 'static,
    ) -> Result<T, StoreError> {
        match tokio::task::spawn_blocking(work).await {
            Ok(result) => result.map_err(|m| self.error(action, key, m)),
            Err(_) => Err(self.error(action, key, "the file task ended abnormally".into())),
        }
    }
}

/// The version of a document's bytes.
fn version_of(bytes: &[u8]) -> Version {
    Version(hex::encode(Sha256::digest(bytes)))
}

/// The document at `path`, if any, bounded in size.
fn read(path: &Path) -> Result<Option<Stored>, String> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let mut bytes = Vec::new();
    file.take(MAX_DOC_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_DOC_BYTES {
        return Err(format!(
            "{} is larger than {MAX_DOC_BYTES} bytes: not a state document",
            path.display()
        ));
    }
    let version = version_of(&bytes);
    Ok(Some(Stored { bytes, version }))
}

/// The exclusive lock of the document at `path`, waited for a short while.
fn lock(path: &Path) -> Result<File, String> {
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push(".lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| format!("{}: {e}", Path::new(&lock_path).display()))?;
    let started = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < LOCK_WAIT => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(format!(
                    "{} stayed locked by another process for {} s",
                    Path::new(&lock_path).display(),
                    LOCK_WAIT.as_secs()
                ))
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(format!("{}: {e}", Path::new(&lock_path).display()))
            }
        }
    }
}

/// Replaces the document at `path` with `bytes` if its version is `expected`.
fn write(path: &Path, bytes: &[u8], expected: &Expected) -> Result<Put, String> {
    let at = |e: std::io::Error, p: &Path| format!("{}: {e}", p.display());
    let dir = path.parent().ok_or("a document path has a directory")?;
    std::fs::create_dir_all(dir).map_err(|e| at(e, dir))?;
    let _lock = lock(path)?;
    let current = read(path)?.map(|s| s.version);
    let matches = match (expected, &current) {
        (Expected::Absent, None) => true,
        (Expected::Version(v), Some(c)) => v == c,
        _ => false,
    };
    if !matches {
        return Ok(Put::Conflict);
    }
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".{}.tmp", std::process::id()));
    let temporary = PathBuf::from(temporary);
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(at(e, path));
    }
    // The rename itself outlives a power cut once the directory is synced.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(Put::Written(version_of(bytes)))
}

impl Backend for FileBackend {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Stored>, StoreError>> {
        let path = self.dir.join(key);
        self.blocking("read", key, move || read(&path)).boxed()
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        bytes: Vec<u8>,
        expected: &'a Expected,
    ) -> BoxFuture<'a, Result<Put, StoreError>> {
        let (path, expected) = (self.dir.join(key), expected.clone());
        self.blocking("write", key, move || write(&path, &bytes, &expected))
            .boxed()
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        let path = self.dir.join(key);
        self.blocking("delete", key, move || match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        })
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "vpcep-warden-file-{name}-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[tokio::test]
    async fn a_write_succeeds_only_over_the_version_it_read() {
        let dir = temp_dir("cas");
        let store = FileBackend::new(dir.clone());
        let key = "projects/p.json";
        assert!(store.get(key).await.unwrap().is_none());
        let Put::Written(v1) = store
            .put(key, b"one".to_vec(), &Expected::Absent)
            .await
            .unwrap()
        else {
            panic!("the first write creates the document")
        };
        assert_eq!(
            store
                .put(key, b"again".to_vec(), &Expected::Absent)
                .await
                .unwrap(),
            Put::Conflict,
            "a document that exists is not created again"
        );
        let read = store.get(key).await.unwrap().unwrap();
        assert_eq!((read.bytes.as_slice(), &read.version), (&b"one"[..], &v1));
        let expected = Expected::Version(v1.clone());
        assert!(matches!(
            store.put(key, b"two".to_vec(), &expected).await.unwrap(),
            Put::Written(_)
        ));
        assert_eq!(
            store.put(key, b"three".to_vec(), &expected).await.unwrap(),
            Put::Conflict,
            "the version read is stale: another writer got there first"
        );
        assert_eq!(store.get(key).await.unwrap().unwrap().bytes, b"two");
        store.delete(key).await.unwrap();
        store.delete(key).await.unwrap();
        assert!(store.get(key).await.unwrap().is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn an_unwritable_directory_is_an_error_naming_the_store_and_document() {
        let dir = temp_dir("unwritable");
        std::fs::write(dir.join("projects"), b"a file where a directory goes").unwrap();
        let store = FileBackend::new(dir.clone());
        let e = store
            .put("projects/p.json", b"x".to_vec(), &Expected::Absent)
            .await
            .unwrap_err();
        assert_eq!(e.action, "write");
        assert!(e.to_string().contains("projects/p.json"), "{e}");
        assert!(e.to_string().starts_with("state store file://"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn a_huge_document_is_refused_not_read_whole() {
        let dir = temp_dir("huge");
        std::fs::create_dir_all(dir.join("projects")).unwrap();
        let file = File::create(dir.join("projects/p.json")).unwrap();
        file.set_len(MAX_DOC_BYTES + 10).unwrap();
        let e = FileBackend::new(dir.clone())
            .get("projects/p.json")
            .await
            .unwrap_err();
        assert!(e.message.contains("larger than"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_lock_held_elsewhere_makes_a_writer_wait() {
        let dir = temp_dir("lock");
        let path = dir.join("p.json");
        let held = lock(&path).unwrap();
        let other = std::thread::spawn({
            let path = path.clone();
            move || write(&path, b"x", &Expected::Absent)
        });
        std::thread::sleep(Duration::from_millis(50));
        assert!(!path.exists(), "the writer waits for the lock");
        drop(held);
        assert_eq!(
            other.join().unwrap().unwrap(),
            Put::Written(version_of(b"x"))
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
