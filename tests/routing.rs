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
use crate::scripted::{Reply, TestServer};

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

#[tokio::test]
async fn a_fan_out_tick_hands_each_target_an_asynchronous_invocation_of_its_own() {
    let model = two_projects().await;
    let functiongraph = TestServer::start(|seen| {
        let target = seen.json()["targets"][0]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        Reply::json(202, json!({"request_id": format!("req-{target}")}))
    })
    .await;
    let urn = format!(
        "urn:fss:cn-north-4:{}:function:default:vpcep-warden:latest",
        PROJECTS[2]
    );
    let mut vars = vec![
        ("HUAWEICLOUD_SDK_AK", "TESTAKEXAMPLE0000001".to_owned()),
        (
            "HUAWEICLOUD_SDK_SK",
            "test-sk-must-never-leak-9f3a".to_owned(),
        ),
        ("WARDEN_FUNCTION_URN", urn.clone()),
        ("WARDEN_FUNCTIONGRAPH_ENDPOINT", functiongraph.url.clone()),
    ];
    let s = settings(&model);
    vars.push((
        "WARDEN_TARGETS",
        json!([
            {"name": "a", "region": "cn-north-4", "project_id": PROJECTS[0], "vpcep_endpoint": s.targets[0].vpcep_endpoint},
            {"name": "b", "region": "cn-north-4", "project_id": PROJECTS[1], "vpcep_endpoint": s.targets[1].vpcep_endpoint}
        ])
        .to_string(),
    ));
    let s = Settings::from_vars(vars.into_iter().map(|(k, v)| (k.to_owned(), v))).unwrap();
    let ctx = Ctx::new(s).unwrap();
    // As the Terraform timer sends it: the direct event, as text, in `user_event`.
    let fanout = json!({
        "trigger_type": "TIMER",
        "trigger_name": "approve-and-gc",
        "user_event": json!({"warden": "fanout", "jobs": ["approve", "gc"]}).to_string(),
    })
    .to_string();
    let Answer::Value(report) = invoke(&ctx, fanout.as_bytes()).await else {
        panic!("every hand-off was taken");
    };
    let handed: Vec<(&str, &str)> = report["handed_off"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["target"].as_str().unwrap(),
                h["request_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(handed, [("a", "req-a"), ("b", "req-b")]);
    assert_eq!(
        model.server.count(),
        0,
        "no target is worked in this invocation"
    );
    let seen = functiongraph.requests();
    assert_eq!(seen.len(), 2);
    for r in &seen {
        assert_eq!(r.method, "POST");
        assert_eq!(
            r.path,
            format!("/v2/{}/fgs/functions/{urn}/invocations-async", PROJECTS[2])
        );
        assert_eq!(r.header("X-Project-Id"), Some(PROJECTS[2]));
        r.verify_signature("TESTAKEXAMPLE0000001", "test-sk-must-never-leak-9f3a")
            .unwrap();
        let body = r.json();
        assert_eq!(body["warden"], "tick");
        assert_eq!(body["jobs"], json!(["approve", "gc"]));
        assert_eq!(body["answer"], "summary");
    }
}

#[test]
fn a_function_urn_that_is_not_one_is_refused() {
    let e = Settings::from_vars(
        [
            ("HUAWEICLOUD_SDK_AK", "TESTAKEXAMPLE0000001"),
            ("HUAWEICLOUD_SDK_SK", "test-sk"),
            ("HUAWEICLOUD_SDK_PROJECT_ID", PROJECTS[0]),
            ("WARDEN_REGION", "cn-north-4"),
            ("WARDEN_FUNCTION_URN", "vpcep-warden"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("urn:fss:REGION:PROJECT:function:APP:NAME:VERSION"),
        "{e}"
    );
}
