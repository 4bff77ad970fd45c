//! Two processes sharing an `s3://` store, against a real S3 API server:
//! moto's (`pip install "moto[server]"`), started on 127.0.0.1 by each test.
//! Without `moto_server` the tests say so and pass, except in CI (`CI` set),
//! where they fail: CI installs it from .ci/requirements.txt.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::processes::{self, Shared};
use vpcep_warden::config::{S3Access, S3Credentials, Secret, StateLocation, StateSettings};

/// A moto server of this test, stopped when dropped.
struct Moto {
    child: Child,
    url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on (just freed).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Starts moto's server, or `None` (outside CI) when it is not installed.
async fn moto() -> Option<Moto> {
    let port = free_port();
    let child = match Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(child) => child,
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!(
                "SKIPPED: moto_server cannot be started ({e}): pip install -r .ci/requirements.txt"
            );
            return None;
        }
        Err(e) => panic!("moto_server cannot be started in CI: {e}"),
    };
    let moto = Moto {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let http = crate::helpers::http();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if http.get(&moto.url).send().await.is_ok() {
            return Some(moto);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("moto_server did not answer on {} within 30 s", moto.url);
}

impl Moto {
    /// A new bucket, and the store both processes share in it.
    async fn shared(&self, bucket: &str) -> Shared {
        let created = crate::helpers::http()
            .put(format!("{}/{bucket}", self.url))
            .send()
            .await
            .expect("moto answers");
        assert!(
            created.status().is_success(),
            "bucket {bucket}: {}",
            created.status()
        );
        shared(&self.url, bucket)
    }
}

fn shared(endpoint: &str, bucket: &str) -> Shared {
    let env = [
        ("WARDEN_STATE", format!("s3://{bucket}/warden")),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ENDPOINT_URL_S3", endpoint.to_owned()),
    ];
    Shared {
        env: env.map(|(k, v)| (k.to_owned(), v)).to_vec(),
        state: StateSettings {
            location: StateLocation::S3 {
                bucket: bucket.to_owned(),
                prefix: "warden".to_owned(),
            },
            s3: Some(S3Access {
                credentials: S3Credentials::Keys {
                    access_key_id: "testing".into(),
                    secret_access_key: Secret::new("testing"),
                    session_token: None,
                },
                region: "us-east-1".into(),
                endpoint: Some(endpoint.to_owned()),
                virtual_hosted: false,
            }),
        },
    }
}

#[tokio::test]
async fn s3_store_an_unchanged_alert_goes_once_and_a_waiting_connection_is_announced_once() {
    let Some(moto) = moto().await else { return };
    let shared = moto.shared("warden-once").await;
    processes::an_unchanged_alert_goes_once_per_window_and_a_waiting_connection_is_announced_once(
        &shared,
    )
    .await;
}

#[tokio::test]
async fn s3_store_two_processes_at_once_send_each_alert_once() {
    let Some(moto) = moto().await else { return };
    let shared = moto.shared("warden-concurrent").await;
    processes::two_processes_at_once_send_each_alert_once(&shared).await;
}

#[tokio::test]
async fn s3_store_that_cannot_be_reached_stops_nothing_but_is_reported() {
    let unreachable = shared(&format!("http://127.0.0.1:{}", free_port()), "warden-down");
    processes::an_unreachable_store_stops_nothing_but_is_reported(&unreachable).await;
}

#[tokio::test]
async fn s3_store_corrupt_document_is_refused_rebuilt_and_nothing_goes_twice() {
    let Some(moto) = moto().await else { return };
    let shared = moto.shared("warden-corrupt").await;
    processes::a_corrupt_document_is_refused_rebuilt_and_nothing_goes_twice(&shared).await;
}

#[tokio::test]
async fn s3_store_writes_only_over_the_version_it_read() {
    use vpcep_warden::state::{Expected, Put};
    let Some(moto) = moto().await else { return };
    let store = moto.shared("warden-cas").await.store();
    let key = "projects/p.json";
    let backend = store.backend();
    let Put::Written(v1) = backend
        .put(key, b"1".to_vec(), &Expected::Absent)
        .await
        .unwrap()
    else {
        panic!("created")
    };
    assert_eq!(
        backend
            .put(key, b"x".to_vec(), &Expected::Absent)
            .await
            .unwrap(),
        Put::Conflict,
        "If-None-Match: * on a document that exists"
    );
    let v1 = Expected::Version(v1);
    assert!(matches!(
        backend.put(key, b"2".to_vec(), &v1).await.unwrap(),
        Put::Written(_)
    ));
    assert_eq!(
        backend.put(key, b"3".to_vec(), &v1).await.unwrap(),
        Put::Conflict,
        "If-Match on a stale ETag"
    );
    assert_eq!(backend.get(key).await.unwrap().unwrap().bytes, b"2");
    store.check().await.expect("readable and writable");
}

#[tokio::test]
async fn s3_store_check_reads_and_writes_it_or_fails_saying_why() {
    let unreachable = shared(&format!("http://127.0.0.1:{}", free_port()), "warden-down");
    processes::check_fails_on_a_store_it_cannot_write(&unreachable).await;
    let Some(moto) = moto().await else { return };
    let shared = moto.shared("warden-check").await;
    processes::check_reads_and_writes_the_store(&shared).await;
}
