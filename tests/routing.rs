//! Connection events with many targets: each notice is worked in the target
//! holding its service, with that target's own settings.

use std::collections::BTreeMap;

use serde_json::json;
use vpcep_warden::config::Settings;
use vpcep_warden::dispatch::dispatch;
use vpcep_warden::events::{Notice, Record, Trigger};
use vpcep_warden::jobs::Ctx;
use vpcep_warden::runtime::{invoke, Answer};

use crate::safety::model::{Change, Estate, Model, Service};
use crate::safety::{conn, GOOD, PROJECTS, STRANGER};

/// Project 0 holds `svc-a`, project 1 `svc-b`; each has a pending
/// connection of `STRANGER`.
async fn two_projects() -> Model {
    let estate = |service: &str| Estate {
        services: vec![Service {
            id: service.into(),
            connections: vec![conn("e-1", Some(STRANGER), "pendingAcceptance", None)],
            ..Service::default()
        }],
        ..Estate::default()
    };
    Model::start(BTreeMap::from([
        (PROJECTS[0].to_owned(), estate("svc-a")),
        (PROJECTS[1].to_owned(), estate("svc-b")),
    ]))
    .await
}

/// Targets alone (no top-level project): `a` allows only `GOOD`, `b` allows `STRANGER`.
fn settings(model: &Model) -> Settings {
    let url = model.server.url.clone();
    let targets = json!([
        {"name": "a", "region": "cn-north-4", "project_id": PROJECTS[0], "vpcep_endpoint": url},
        {"name": "b", "region": "cn-north-4", "project_id": PROJECTS[1], "vpcep_endpoint": url,
         "allowed_domains": [STRANGER]}
    ]);
    Settings::from_vars(
        [
            ("HUAWEICLOUD_SDK_AK", "TESTAKEXAMPLE0000001".to_owned()),
            (
                "HUAWEICLOUD_SDK_SK",
                "test-sk-must-never-leak-9f3a".to_owned(),
            ),
            ("WARDEN_ALLOWED_DOMAINS", GOOD.to_owned()),
            ("WARDEN_MAX_RETRIES", "0".to_owned()),
            ("WARDEN_TARGETS", targets.to_string()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    )
    .unwrap()
}

fn notice(service: &str, target: Option<&str>) -> Trigger {
    Trigger::Connections(vec![Record {
        id: Some("m-1".into()),
        notice: Ok(Notice {
            service_id: service.into(),
            endpoint_id: Some("e-1".into()),
            target: target.map(str::to_owned),
        }),
    }])
}

fn service_listings(model: &Model) -> usize {
    model
        .server
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/vpc-endpoint-services"))
        .count()
}

#[tokio::test]
async fn a_notice_is_worked_in_the_target_holding_its_service_with_its_settings() {
    let model = two_projects().await;
    let ctx = Ctx::new(settings(&model)).unwrap();
    let out = dispatch(&ctx, notice("svc-b", None)).await;
    assert!(out.report.errors.is_empty(), "{:?}", out.report.errors);
    assert_eq!(
        model.changes(),
        [Change::Action(
            PROJECTS[1].into(),
            "svc-b".into(),
            "e-1".into(),
            "receive".into()
        )],
        "accepted in b, by b's allowlist"
    );
    assert_eq!(out.report.approved[0].target.as_deref(), Some("b"));
    assert!(out.report.api_calls > 0);
    // In `a`, the same account is not allowed: left pending there.
    let out = dispatch(&ctx, notice("svc-a", Some("a"))).await;
    assert_eq!(out.report.left_pending[0].target.as_deref(), Some("a"));
    assert_eq!(model.changes().len(), 1);
}

#[tokio::test]
async fn service_lists_are_kept_and_listed_anew_only_for_a_service_in_none() {
    let model = two_projects().await;
    let ctx = Ctx::new(settings(&model)).unwrap();
    dispatch(&ctx, notice("svc-a", None)).await;
    assert_eq!(service_listings(&model), 2, "each target listed once");
    dispatch(&ctx, notice("svc-b", None)).await;
    assert_eq!(service_listings(&model), 2, "kept across invocations");
    let out = dispatch(&ctx, notice("svc-nowhere", None)).await;
    assert_eq!(
        service_listings(&model),
        4,
        "listed anew for an unknown service"
    );
    let error = &out.report.errors[0];
    assert!(error.message.contains("held by no target"), "{error:?}");
    assert!(!error.retryable);
    assert_eq!(out.failed_records, ["m-1"]);
}

#[tokio::test]
async fn a_notice_naming_an_unknown_target_is_refused_and_nothing_is_done() {
    let model = two_projects().await;
    let ctx = Ctx::new(settings(&model)).unwrap();
    let out = dispatch(&ctx, notice("svc-b", Some("nope"))).await;
    assert!(model.changes().is_empty());
    assert_eq!(model.server.count(), 0, "no request at all");
    let error = &out.report.errors[0];
    assert!(error.message.contains("\"nope\""), "{error:?}");
    assert!(!error.retryable, "refused, not retried");
}

#[tokio::test]
async fn the_state_machine_gets_a_bounded_summary_and_names_with_spaces_are_trimmed() {
    let pending = (0..1500)
        .map(|i| {
            conn(
                &format!("e-{i:04}"),
                Some(STRANGER),
                "pendingAcceptance",
                None,
            )
        })
        .collect();
    let model = Model::start(BTreeMap::from([
        (
            PROJECTS[0].to_owned(),
            Estate {
                services: vec![Service {
                    id: "svc-a".into(),
                    connections: pending,
                    ..Service::default()
                }],
                ..Estate::default()
            },
        ),
        (PROJECTS[1].to_owned(), Estate::default()),
    ]))
    .await;
    let ctx = Ctx::new(settings(&model)).unwrap();
    let tick = |answer: &str| {
        json!({"warden": "tick", "jobs": ["approve"], "targets": [" a"], "answer": answer})
            .to_string()
    };
    let Answer::Value(full) = invoke(&ctx, tick("report").as_bytes()).await else {
        panic!("a clean tick answers its report");
    };
    let Answer::Value(summary) = invoke(&ctx, tick("summary").as_bytes()).await else {
        panic!("a clean tick answers its summary");
    };
    let (full, short) = (full.to_string().len(), summary.to_string().len());
    assert!(full > 200_000, "the report holds every entry: {full} bytes");
    assert!(short < 4_000, "the summary is bounded: {short} bytes");
    assert_eq!(summary["targets"][0]["name"], "a");
    assert_eq!(summary["left_pending"]["count"], 1500);
    assert_eq!(
        summary["left_pending"]["first"].as_array().unwrap().len(),
        5
    );
}
