//! Destructive actions under odd-but-valid answers, partial reads and many
//! targets: each case of the safety invariants (design.md, section 6), then
//! property tests over random estates that check them all after every run.

pub mod model;
mod props;
mod revoking;
mod whole_run;

use std::collections::BTreeMap;

use serde_json::{json, Value};
use vpcep_warden::config::Settings;
use vpcep_warden::dispatch::dispatch;
use vpcep_warden::events::{Job, Notice, Record, Trigger};
use vpcep_warden::jobs::Ctx;
use vpcep_warden::report::Report;

use model::{Change, Estate, Model, Service};

pub const GOOD: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
pub const STRANGER: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
pub const PROJECTS: [&str; 3] = [
    "11111111111111111111111111111111",
    "22222222222222222222222222222222",
    "33333333333333333333333333333333",
];

pub fn conn(id: &str, domain: Option<&str>, status: &str, description: Option<&str>) -> Value {
    let mut c = json!({"id": id, "status": status, "created_at": "2026-11-30T10:00:00Z",
        "updated_at": "2026-11-30T10:00:00Z"});
    if let Some(d) = domain {
        c["domain_id"] = json!(d);
    }
    if let Some(d) = description {
        c["description"] = json!(d);
    }
    c
}

fn service(id: &str, connections: Vec<Value>) -> Service {
    Service {
        id: id.into(),
        connections,
        ..Service::default()
    }
}

/// Settings for the projects of `model`: one project alone, or each as a
/// target of `WARDEN_TARGETS`. Nothing is retried, so faults stay faults.
pub fn settings(model: &Model, projects: usize, extra: &[(&str, &str)]) -> Settings {
    let url = model.server.url.clone();
    let mut vars: Vec<(String, String)> = [
        ("HUAWEICLOUD_SDK_AK", "TESTAKEXAMPLE0000001"),
        ("HUAWEICLOUD_SDK_SK", "test-sk-must-never-leak-9f3a"),
        ("HUAWEICLOUD_SDK_PROJECT_ID", PROJECTS[0]),
        ("WARDEN_VPCEP_ENDPOINT", url.as_str()),
        ("WARDEN_MAX_RETRIES", "0"),
        ("WARDEN_HTTP_TIMEOUT_SECS", "5"),
    ]
    .iter()
    .chain(extra)
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    if projects > 1 {
        let targets: Vec<Value> = PROJECTS[..projects]
            .iter()
            .enumerate()
            .map(|(i, p)| json!({"name": format!("t{i}"), "region": "cn-north-4", "project_id": p, "vpcep_endpoint": url}))
            .collect();
        vars.push(("WARDEN_TARGETS".into(), Value::from(targets).to_string()));
    }
    Settings::from_vars(vars).expect("valid settings")
}

fn tick(jobs: &[Job]) -> Trigger {
    Trigger::Tick {
        jobs: jobs.to_vec(),
        targets: Vec::new(),
    }
}

async fn run(s: Settings, trigger: Trigger) -> Report {
    dispatch(&Ctx::new(s).unwrap(), trigger).await.report
}

fn one(services: Vec<Service>) -> BTreeMap<String, Estate> {
    BTreeMap::from([(
        PROJECTS[0].to_owned(),
        Estate {
            services,
            ..Estate::default()
        },
    )])
}

fn actions(model: &Model) -> Vec<(String, String)> {
    model
        .changes()
        .into_iter()
        .filter_map(|c| match c {
            Change::Action(_, _, endpoint, action) => Some((endpoint, action)),
            _ => None,
        })
        .collect()
}

const REJECT_AT_ONCE: &[(&str, &str)] = &[
    ("WARDEN_RECONCILE", "reject"),
    ("WARDEN_RECONCILE_GRACE_MINUTES", "0"),
    ("WARDEN_NOT_ALLOWED", "reject"),
];

#[tokio::test]
async fn a_connection_without_an_account_is_never_accepted_rejected_or_revoked() {
    let mut null = conn("e-null", None, "accepted", None);
    null["domain_id"] = Value::Null;
    let model = Model::start(one(vec![service(
        "svc",
        vec![
            conn("e-missing", None, "accepted", None),
            null,
            conn("e-empty", Some(""), "accepted", None),
            conn("e-pending", Some(" "), "pendingAcceptance", None),
            conn("e-good", Some(GOOD), "accepted", None),
        ],
    )]))
    .await;
    let mut extra = REJECT_AT_ONCE.to_vec();
    extra.push(("WARDEN_ALLOWED_DOMAINS", GOOD));
    let report = run(settings(&model, 1, &extra), tick(&[Job::Approve])).await;
    assert_eq!(actions(&model), Vec::<(String, String)>::new());
    assert!(report.left_pending[0].reason.contains("names no account"));
    let mut not_judged: Vec<&str> = report
        .revoked
        .iter()
        .filter(|r| !r.rejected && r.reason.contains("names no account"))
        .map(|r| r.endpoint_id.as_str())
        .collect();
    not_judged.sort();
    assert_eq!(not_judged, ["e-empty", "e-missing", "e-null"]);
}

#[tokio::test]
async fn the_announced_mark_never_overwrites_a_description_the_warden_did_not_write() {
    let foreign = "billing contact: ops@example.com (do not remove)";
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let mut waiting = conn("e-wait", Some(STRANGER), "pendingAcceptance", Some(foreign));
    waiting["created_at"] = json!(now);
    let model = Model::start(one(vec![service("svc", vec![waiting])])).await;
    let extra = [
        ("WARDEN_ALLOWED_DOMAINS", GOOD),
        ("WARDEN_AUDIT_DESCRIPTION", "on"),
    ];
    let report = run(settings(&model, 1, &extra), tick(&[Job::Approve])).await;
    assert_eq!(report.alerts.len(), 1, "announced: {:?}", report.alerts);
    let c = model.connection(PROJECTS[0], "svc", "e-wait").unwrap();
    assert_eq!(c["description"], foreign);
    assert!(model.changes().is_empty(), "{:?}", model.changes());
}

#[tokio::test]
async fn a_description_write_leaves_descriptions_that_changed_hands_since_they_were_read() {
    let model = Model::start(one(vec![service(
        "svc",
        vec![
            conn(
                "e-ours",
                Some(STRANGER),
                "accepted",
                Some("vpcep-warden: accepted 2026-11-30T10:00Z, x"),
            ),
            conn("e-theirs", Some(STRANGER), "accepted", Some("ops: keep")),
        ],
    )]))
    .await;
    let client = Ctx::new(settings(&model, 1, &[])).unwrap().client;
    let marks = [
        ("e-ours".to_owned(), "vpcep-warden: revoked".to_owned()),
        ("e-theirs".to_owned(), "vpcep-warden: revoked".to_owned()),
    ];
    let done = client
        .describe_own_connections("svc", &marks)
        .await
        .unwrap();
    assert_eq!(
        (done.written, done.left),
        (vec!["e-ours".to_owned()], vec!["e-theirs".to_owned()])
    );
    let c = model.connection(PROJECTS[0], "svc", "e-theirs").unwrap();
    assert_eq!(c["description"], "ops: keep");
}

#[tokio::test]
async fn a_tick_and_a_notice_at_once_never_accept_past_the_per_account_limit() {
    let model = Model::start(one(vec![service(
        "svc",
        vec![
            conn("e-held", Some(GOOD), "accepted", None),
            conn("e-1", Some(GOOD), "pendingAcceptance", None),
            conn("e-2", Some(GOOD), "pendingAcceptance", None),
        ],
    )]))
    .await;
    let extra = [
        ("WARDEN_ALLOWED_DOMAINS", GOOD),
        ("WARDEN_MAX_CONNECTIONS_PER_ACCOUNT", "2"),
    ];
    let ctx = Ctx::new(settings(&model, 1, &extra)).unwrap();
    let notice = Trigger::Connections(vec![Record {
        id: None,
        notice: Ok(Notice {
            service_id: "svc".into(),
            endpoint_id: Some("e-2".into()),
            target: None,
        }),
    }]);
    let (a, b) = tokio::join!(
        dispatch(&ctx, tick(&[Job::Approve])),
        dispatch(&ctx, notice)
    );
    assert!(a.report.errors.is_empty() && b.report.errors.is_empty());
    let accepted = actions(&model)
        .iter()
        .filter(|(_, a)| a == "receive")
        .count();
    assert_eq!(accepted, 1, "{:?}", actions(&model));
}

#[tokio::test]
async fn the_gc_dry_run_rereads_each_endpoint_as_the_real_run_does() {
    let failed = json!({"id": "f-1", "status": "failed", "updated_at": "2026-01-01T00:00:00Z"});
    let mut now = failed.clone();
    now["status"] = json!("accepted");
    let estate = Estate {
        endpoints: vec![failed],
        reread: BTreeMap::from([("f-1".to_owned(), now)]),
        ..Estate::default()
    };
    let model = Model::start(BTreeMap::from([(PROJECTS[0].to_owned(), estate)])).await;
    let dry = run(
        settings(&model, 1, &[("WARDEN_DRY_RUN", "true")]),
        tick(&[Job::Gc]),
    )
    .await;
    assert!(dry.deleted.is_empty(), "{:?}", dry.deleted);
    assert!(dry.gc_skipped[0].reason.contains("changed since listing"));
    let real = run(settings(&model, 1, &[]), tick(&[Job::Gc])).await;
    assert_eq!(real.deleted, dry.deleted);
}

#[test]
fn a_near_miss_of_service_whitelist_in_a_target_is_refused() {
    for near in ["SERVICE-WHITELIST", "service_whitelist"] {
        let targets = json!([{"name": "a", "region": "cn-north-4", "project_id": PROJECTS[0],
            "allowed_domains": [near]}]);
        let vars = [
            ("HUAWEICLOUD_SDK_AK", "TESTAKEXAMPLE0000001".to_owned()),
            ("HUAWEICLOUD_SDK_SK", "test-sk".to_owned()),
            ("HUAWEICLOUD_SDK_PROJECT_ID", PROJECTS[0].to_owned()),
            ("WARDEN_REGION", "cn-north-4".to_owned()),
            ("WARDEN_TARGETS", targets.to_string()),
        ]
        .map(|(k, v)| (k.to_owned(), v));
        let e = Settings::from_vars(vars).unwrap_err().to_string();
        assert!(
            e.contains("write it exactly service-whitelist"),
            "{near}: {e}"
        );
    }
}
