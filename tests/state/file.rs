//! Two processes sharing a `file://` store.

use super::processes::{self, Shared};
use vpcep_warden::config::StateSettings;

/// A fresh directory of its own under the system's temporary directory.
fn directory(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "vpcep-warden-state-{name}-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn shared(dir: &std::path::Path) -> Shared {
    Shared {
        env: vec![("WARDEN_STATE".into(), format!("file://{}", dir.display()))],
        state: StateSettings::file(dir),
    }
}

#[tokio::test]
async fn file_store_an_unchanged_alert_goes_once_and_a_waiting_connection_is_announced_once() {
    let dir = directory("once");
    processes::an_unchanged_alert_goes_once_per_window_and_a_waiting_connection_is_announced_once(
        &shared(&dir),
    )
    .await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn file_store_two_processes_at_once_send_each_alert_once() {
    let dir = directory("concurrent");
    processes::two_processes_at_once_send_each_alert_once(&shared(&dir)).await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn file_store_that_cannot_be_read_stops_nothing_but_is_reported() {
    let dir = directory("unreachable");
    // A file where the store's directory should be: every read fails.
    let blocked = dir.join("not-a-directory");
    std::fs::write(&blocked, b"x").unwrap();
    processes::an_unreachable_store_stops_nothing_but_is_reported(&shared(&blocked)).await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn file_store_corrupt_document_is_refused_rebuilt_and_nothing_goes_twice() {
    let dir = directory("corrupt");
    processes::a_corrupt_document_is_refused_rebuilt_and_nothing_goes_twice(&shared(&dir)).await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn file_store_check_reads_and_writes_it_or_fails_saying_why() {
    let dir = directory("check");
    processes::check_reads_and_writes_the_store(&shared(&dir)).await;
    let blocked = dir.join("not-a-directory");
    std::fs::write(&blocked, b"x").unwrap();
    processes::check_fails_on_a_store_it_cannot_write(&shared(&blocked)).await;
    std::fs::remove_dir_all(dir).unwrap();
}
