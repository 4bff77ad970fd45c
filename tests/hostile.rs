//! A hostile or live API: lists that change while they are read, servers that
//! ignore `offset` or repeat items, answers that name another endpoint or an
//! id that collapses the URL, answers too large to hold, and `Retry-After`.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use vpcep_emulator::Options;
use vpcep_warden::dispatch::dispatch;
use vpcep_warden::events::{Job, Trigger};
use vpcep_warden::jobs::{gc, Ctx};

use crate::helpers;
use crate::scripted::{client, settings, Reply, TestServer};

const SERVICE: &str = "5e000000-0000-4000-8000-0000000000aa";

fn offset_of(seen: &crate::scripted::Seen) -> usize {
    seen.query_value("offset")
        .and_then(|o| o.parse().ok())
        .unwrap_or(0)
}

fn connections_page(ids: &[String], offset: usize) -> Reply {
    let page: Vec<Value> = ids
        .iter()
        .skip(offset)
        .take(1000)
        .map(|id| json!({"id": id, "domain_id": "d", "status": "pendingAcceptance"}))
        .collect();
    Reply::ok(json!({"connections": page, "total_count": ids.len()}))
}

#[tokio::test]
async fn a_list_that_grows_while_it_is_read_is_read_whole_each_item_once() {
    // 1,500 connections; before the second page 100 new ones appear in front,
    // so the second page repeats the last 100 of the first.
    let old: Vec<String> = (0..1500).map(|i| format!("old-{i:04}")).collect();
    let server = TestServer::start(move |seen| {
        let offset = offset_of(seen);
        if offset == 0 {
            connections_page(&old, 0)
        } else {
            let grown: Vec<String> = (0..100)
                .map(|i| format!("new-{i:03}"))
                .chain(old.iter().cloned())
                .collect();
            connections_page(&grown, offset)
        }
    })
    .await;
    let listed = client(&server)
        .list_connections(SERVICE, None, None)
        .await
        .expect("a list that changed while it was read is still read");
    let mut ids: Vec<&str> = listed.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids.len(), 1500, "every old item once, no repeats");
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 1500);
}

#[tokio::test]
async fn a_server_that_ignores_offset_is_caught_not_read_twice() {
    let ids: Vec<String> = (0..2500).map(|i| format!("c-{i:04}")).collect();
    let server = TestServer::start(move |_| connections_page(&ids, 0)).await;
    let err = client(&server)
        .list_connections(SERVICE, None, None)
        .await
        .expect_err("a repeated page is not a list");
    assert!(err.to_string().contains("repeated"), "{err}");
    assert_eq!(server.count(), 2, "the walk stops at the first repeat");
}

#[tokio::test]
async fn a_total_count_that_never_ends_cannot_make_the_walk_run_forever() {
    // Fresh ids on every page, and a total that always promises more.
    let server = TestServer::start(|seen| {
        let offset = offset_of(seen);
        let page: Vec<Value> = (offset..offset + 1000)
            .map(|i| json!({"id": format!("e-{i}"), "status": "available"}))
            .collect();
        Reply::ok(json!({"endpoints": page, "total_count": u64::MAX}))
    })
    .await;
    let err = client(&server).list_endpoints().await.unwrap_err();
    assert!(
        err.to_string().contains("larger than one run reads"),
        "{err}"
    );
    // 200 pages, plus the pages already asked for ahead (8 at most) when it stops.
    assert!(server.count() <= 201 + 8, "{} pages read", server.count());
}

/// A gc context against `server` whose endpoints list is `listed`, and whose
/// single-endpoint reads answer `reread(id)`.
fn gc_server(
    listed: Vec<Value>,
    reread: impl Fn(&str) -> Value + Send + Sync + 'static,
) -> impl Fn(&crate::scripted::Seen) -> Reply + Send + Sync + 'static {
    move |seen| {
        let path = seen.path.trim_end_matches('/');
        if path.ends_with("/vpc-endpoints") && seen.method == "GET" {
            return Reply::ok(json!({"endpoints": listed, "total_count": listed.len()}));
        }
        let id = path.rsplit('/').next().unwrap_or_default();
        match seen.method.as_str() {
            "GET" => Reply::ok(reread(id)),
            "DELETE" => Reply::raw(204, ""),
            _ => Reply::error(400, "EndPoint.0005", "unexpected"),
        }
    }
}

fn failed(id: &str) -> Value {
    json!({"id": id, "status": "failed", "endpoint_service_id": SERVICE,
           "updated_at": "2020-01-01T00:00:00Z", "tags": []})
}

fn gc_ctx(server: &TestServer) -> Ctx {
    Ctx::new(settings(&server.url)).unwrap()
}

fn deletes(server: &TestServer) -> Vec<String> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.path)
        .collect()
}

#[tokio::test]
async fn an_endpoint_listed_twice_is_deleted_once() {
    let server = TestServer::start(gc_server(
        vec![failed("ep-1"), failed("ep-2"), failed("ep-1")],
        failed,
    ))
    .await;
    let report = gc::run(&gc_ctx(&server)).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let mut deleted: Vec<&str> = report
        .deleted
        .iter()
        .map(|d| d.endpoint_id.as_str())
        .collect();
    deleted.sort_unstable();
    assert_eq!(deleted, ["ep-1", "ep-2"]);
    assert_eq!(deletes(&server).len(), 2);
}

#[tokio::test]
async fn gc_deletes_only_the_endpoint_it_listed_and_rechecked() {
    // The re-read of ep-1 answers with another endpoint's body.
    let server = TestServer::start(gc_server(vec![failed("ep-1")], |_| failed("ep-9"))).await;
    let report = gc::run(&gc_ctx(&server)).await;
    assert!(report.deleted.is_empty(), "{:?}", report.deleted);
    assert!(deletes(&server).is_empty());
    assert_eq!(report.gc_skipped.len(), 1);
    assert!(
        report.gc_skipped[0].reason.contains("not the one listed"),
        "{}",
        report.gc_skipped[0].reason
    );
}

#[tokio::test]
async fn ids_that_collapse_the_url_are_never_read_or_deleted() {
    let server = TestServer::start(gc_server(
        vec![failed(""), failed("."), failed("..")],
        failed,
    ))
    .await;
    let report = gc::run(&gc_ctx(&server)).await;
    assert!(report.deleted.is_empty());
    assert_eq!(server.count(), 1, "only the list was read");
    assert_eq!(report.gc_skipped.len(), 3);
    assert!(report
        .gc_skipped
        .iter()
        .all(|s| s.reason.contains("cannot name one endpoint")));
}

#[tokio::test]
async fn an_answer_too_large_to_hold_fails_that_job_and_the_others_go_on() {
    let huge = format!(
        "{{\"endpoints\": [], \"padding\": \"{}\"}}",
        "x".repeat(17 << 20)
    );
    let server = TestServer::start(move |seen| {
        if seen.path.ends_with("/quotas") {
            Reply::ok(json!({"quotas": {"resources": [
                {"type": "endpoint", "used": 1, "quota": 150}]}}))
        } else if seen.path.ends_with("/vpc-endpoint-services") {
            Reply::ok(json!({"endpoint_services": [], "total_count": 0}))
        } else {
            Reply::raw(200, &huge)
        }
    })
    .await;
    let ctx = gc_ctx(&server);
    let outcome = dispatch(
        &ctx,
        Trigger::Tick {
            jobs: vec![Job::Quota, Job::Gc],
            targets: Vec::new(),
        },
    )
    .await;
    let report = outcome.report;
    assert_eq!(report.quotas.len(), 1, "the quota job still ran");
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert_eq!(report.errors[0].job, "gc");
    assert!(
        report.errors[0].message.contains("larger than the 16 MiB"),
        "{}",
        report.errors[0].message
    );
}

#[tokio::test]
async fn retry_after_on_429_is_waited_out() {
    let server = TestServer::scripted(vec![
        Reply::error(429, "APIGW.0308", "throttled").header("Retry-After", "1"),
        Reply::ok(json!({"quotas": {"resources": []}})),
    ])
    .await;
    let started = Instant::now();
    client(&server).quotas().await.expect("the retry succeeds");
    assert_eq!(server.count(), 2);
    // The test client's own backoff is at most 5 ms: only Retry-After explains a wait.
    assert!(started.elapsed() >= Duration::from_millis(950));
}

/// Several failed endpoints in a list of several pages; deletions by one
/// tick change the list another tick is reading.
#[tokio::test]
async fn overlapping_ticks_over_changing_multi_page_lists_finish_without_errors() {
    let old = helpers::minutes_ago(600);
    let endpoints: Vec<Value> = (0..2600)
        .map(|i| {
            let status = if i % 9 == 0 { "failed" } else { "accepted" };
            helpers::endpoint(&format!("ep-{i:04}"), status, &old, &[])
        })
        .collect();
    let emu = helpers::emulator(
        json!({"endpoints": endpoints}),
        Options {
            latency_ms: 3,
            ..Options::default()
        },
    )
    .await;
    let ctx = || {
        let mut s = helpers::settings(&emu);
        s.gc_max_deletes = 1000;
        helpers::ctx(s)
    };
    let gc_tick = || Trigger::Tick {
        jobs: vec![Job::Gc],
        targets: Vec::new(),
    };
    let (a, b, c) = (ctx(), ctx(), ctx());
    let (ra, rb, rc) = tokio::join!(
        dispatch(&a, gc_tick()),
        async {
            tokio::time::sleep(Duration::from_millis(30)).await;
            dispatch(&b, gc_tick()).await
        },
        async {
            tokio::time::sleep(Duration::from_millis(90)).await;
            dispatch(&c, gc_tick()).await
        },
    );
    for r in [&ra, &rb, &rc] {
        assert!(r.report.errors.is_empty(), "{:?}", r.report.errors.first());
    }
    let left = a.client.list_endpoints().await.unwrap();
    assert!(left.iter().all(|e| e.status != "failed"));
    assert_eq!(left.len(), 2600 - 289);
}

#[tokio::test]
async fn a_batch_repeating_notices_acts_once_and_answers_every_record() {
    use vpcep_warden::events::{Notice, Record};
    let connections: Vec<Value> = (0..4)
        .map(|i| helpers::pending(&format!("e-{i}"), helpers::ALLOWED))
        .collect();
    let emu = helpers::emulator(
        json!({"services": [{"id": helpers::SERVICE, "owner": "provider", "service_name": "svc",
                             "approval_enabled": true, "connections": connections}]}),
        Options::default(),
    )
    .await;
    let ctx = helpers::ctx(helpers::settings(&emu));
    let record = |id: &str, endpoint: Option<&str>| Record {
        id: Some(id.into()),
        notice: Ok(Notice {
            service_id: helpers::SERVICE.into(),
            endpoint_id: endpoint.map(str::to_owned),
            target: None,
        }),
    };
    let records = vec![
        record("m1", Some("e-0")),
        record("m2", Some("e-0")),
        record("m3", None),
        record("m4", None),
        record("m5", Some("e-1")),
    ];
    let out = dispatch(&ctx, Trigger::Connections(records)).await;
    assert!(out.failed_records.is_empty(), "{:?}", out.report.errors);
    let mut approved: Vec<&str> = out
        .report
        .approved
        .iter()
        .map(|a| a.endpoint_id.as_str())
        .collect();
    approved.sort_unstable();
    assert_eq!(approved, ["e-0", "e-1", "e-2", "e-3"], "each endpoint once");
    let stats = emu.stats().by_operation;
    assert_eq!(stats.get("connection_action").copied(), Some(4));
    assert_eq!(stats.get("list_connections").copied(), Some(1), "{stats:?}");
}

#[tokio::test]
async fn an_http_timeout_longer_than_the_invocation_still_lets_work_start() {
    let emu = helpers::emulator(
        json!({"services": [{"id": helpers::SERVICE, "owner": "provider", "service_name": "svc",
            "approval_enabled": true, "connections": [helpers::pending("e-1", helpers::ALLOWED)]}]}),
        Options::default(),
    )
    .await;
    let mut s = helpers::settings(&emu);
    s.http_timeout_secs = 30;
    // A 5 s function with a 30 s HTTP timeout: before, nothing ever started.
    let ctx = helpers::ctx(s).with_deadline(Some(Instant::now() + Duration::from_secs(5)));
    let report = dispatch(
        &ctx,
        Trigger::Tick {
            jobs: vec![],
            targets: Vec::new(),
        },
    )
    .await
    .report;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.approved.len(), 1);
    assert_eq!(report.quotas.len(), 2);
}

#[tokio::test]
async fn once_the_first_page_gives_the_total_the_other_pages_are_read_side_by_side() {
    let ids: Vec<String> = (0..5500).map(|i| format!("c-{i:04}")).collect();
    let server = TestServer::start(move |seen| {
        connections_page(&ids, offset_of(seen)).delayed(std::time::Duration::from_millis(50))
    })
    .await;
    let listed = client(&server)
        .list_connections(SERVICE, None, None)
        .await
        .unwrap();
    assert_eq!(listed.len(), 5500);
    assert_eq!(listed[5499].id, "c-5499", "handed over in order");
    assert_eq!(server.count(), 6, "each page once");
    assert_eq!(
        server.max_in_flight(),
        5,
        "the five pages after the first at once"
    );
}
