//! Conformance with the official SDKs: every call the warden makes (VPCEP,
//! IAM, SMN, Organizations) is sent both by the warden and
//! by Huawei's official Python SDK (`sdk_calls.py`) to one recording server,
//! and the two requests must agree in method, path, query names, body keys
//! (recursively), signed headers and `Content-Type`. A difference fails with
//! a readable list; the deliberate ones are in [`DELIBERATE`], with why.
//!
//! Needs `python3` with the SDKs of `.ci/requirements.txt` (`PYTHON` names
//! another interpreter).

mod shape;

use std::process::Command;

use serde_json::json;
use vpcep_warden::alerts::{Alert, Sinks};
use vpcep_warden::config::{Agency, AgencyDomain, Credentials, Secret, Settings};
use vpcep_warden::vpcep::{ConnectionAction, AGENCY_DURATION_SECS};

use crate::scripted::{client_for, settings, Reply, Seen, TestServer, PROJECT};
use shape::{Aspect, Shape};

const DOMAIN: &str = "0a1b2c3d4e5f4a0b9c8d7e6f5a4b3c21";
const SERVICE: &str = "5133655d-0e28-4090-b669-13f87b355c78";
const ENDPOINT: &str = "03184a04-95d5-4555-86c4-e767a371ff99";
const AGENCY: &str = "warden-vpcep";
const AGENCY_DOMAIN: &str = "9f8e7d6c5b4a49380716253443526170";

/// The operations, in `sdk_calls.py`'s order: (name, which of the warden's
/// requests are compared with the SDK's: those from the first index to the
/// second, `None` for the last).
const OPERATIONS: &[(&str, usize, Option<usize>)] = &[
    ("list services", 0, None),
    ("get service", 0, None),
    ("list pending connections", 0, None),
    ("list connections of an endpoint", 0, None),
    ("accept a connection", 0, None),
    ("reject a connection", 0, None),
    // The write only: the warden first re-reads the connections (a list
    // call, compared above) so as never to overwrite another's description.
    ("describe connections", 1, None),
    ("list whitelist records", 0, None),
    ("list endpoints", 0, None),
    ("get endpoint", 0, None),
    ("delete endpoint", 0, None),
    ("read quotas", 0, None),
    ("assume agency, account found", 0, None),
    ("assume agency, account given", 0, None),
    // The token request only: the warden then makes the call it was for.
    ("IAM token for VPCEP", 0, Some(1)),
    ("IAM token for IAM", 0, Some(1)),
    ("publish to SMN", 0, None),
    // The organization, its root, the root's units and its accounts (two pages).
    ("read the organization", 0, None),
];

/// Differences that are meant, each with its reason: (operation, aspect, why).
pub const DELIBERATE: &[(&str, Aspect, &str)] = &[
    (
        "IAM token for VPCEP",
        Aspect::Signed,
        "a password user has no keys to sign with; IAM takes POST /v3/auth/tokens unsigned (the SDK signs every call, so it needs keys even here)",
    ),
    (
        "IAM token for IAM",
        Aspect::Signed,
        "a password user has no keys to sign with; IAM takes POST /v3/auth/tokens unsigned (the SDK signs every call, so it needs keys even here)",
    ),
    (
        "assume agency, account found",
        Aspect::ContentType,
        "GET /v3/auth/domains: the SDK builds this one request by hand, without Content-Type; the warden sends application/json on every call without a body, as the SDK does on all its other ones, and a GET without a body leaves it unread",
    ),
    (
        "assume agency, account found",
        Aspect::Signed,
        "GET /v3/auth/domains: the SDK signs no content-type, since it sends none (see the Content-Type entry)",
    ),
];

/// What the recording server answers: enough for both clients to go on.
fn answer(seen: &Seen) -> Reply {
    let path = seen.path.as_str();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (seen.method.as_str(), segments.as_slice()) {
        (_, ["__mark", ..]) => Reply::ok(json!({})),
        ("GET", ["v3", "auth", "domains"]) => Reply::ok(json!({
            "domains": [{"id": DOMAIN, "name": "acme", "enabled": true}],
            "links": {"self": "http://127.0.0.1/v3/auth/domains"}
        })),
        ("POST", ["v3", "auth", "tokens"]) => Reply::json(
            201,
            json!({"token": {"expires_at": "2099-01-01T00:00:00.000000Z", "methods": ["password"]}}),
        )
        .header("X-Subject-Token", "recorded-token"),
        ("POST", ["v3.0", "OS-CREDENTIAL", "securitytokens"]) => Reply::json(
            201,
            json!({"credential": {"access": "TMPAK", "secret": "tmp-secret",
                "securitytoken": "tmp-token", "expires_at": "2099-01-01T00:00:00.000000Z"}}),
        ),
        ("POST", ["v2", _, "notifications", "topics", _, "publish"]) => {
            Reply::ok(json!({"request_id": "r1", "message_id": "m1"}))
        }
        ("GET", ["v1", "organizations"]) => Reply::ok(json!({"organization": {
            "id": "o-1", "urn": "organizations::0:organization:o-1",
            "management_account_id": DOMAIN, "management_account_name": "acme",
            "created_at": "2026-01-01T00:00:00Z"}})),
        ("GET", ["v1", "organizations", "roots"]) => Reply::ok(json!({
            "roots": [{"id": "r-1", "urn": "organizations::0:root:r-1", "name": "Root",
                "policy_types": [], "created_at": "2026-01-01T00:00:00Z"}],
            "page_info": {"next_marker": null, "current_count": 1}})),
        ("GET", ["v1", "organizations", "organizational-units"]) => Reply::ok(json!({
            "organizational_units": [], "page_info": {"next_marker": null, "current_count": 0}})),
        ("GET", ["v1", "organizations", "accounts"]) => {
            let next = seen.query_value("marker").is_none().then_some("m2");
            Reply::ok(json!({
                "accounts": [{"id": AGENCY_DOMAIN, "urn": "organizations::0:account:x", "name": "shop",
                    "join_method": "invited", "status": "active", "joined_at": "2026-01-01T00:00:00Z"}],
                "page_info": {"next_marker": next, "current_count": 1}}))
        }
        ("GET", ["v1", _, "vpc-endpoint-services"]) => {
            Reply::ok(json!({"endpoint_services": [], "total_count": 0}))
        }
        ("GET", ["v1", _, "vpc-endpoint-services", id]) => Reply::ok(json!({
            "id": id, "service_name": "svc", "status": "available", "approval_enabled": true,
            "service_type": "interface", "server_type": "VM", "ports": []
        })),
        ("GET", ["v1", _, "vpc-endpoint-services", _, "connections"]) => Reply::ok(json!({
            "connections": [{"id": ENDPOINT, "status": "accepted", "domain_id": AGENCY_DOMAIN,
                "marker_id": 1, "description": "", "created_at": "2026-01-01T00:00:00Z"}],
            "total_count": 1
        })),
        ("POST", ["v1", _, "vpc-endpoint-services", _, "connections", "action"]) => {
            Reply::ok(json!({"connections": []}))
        }
        ("PUT", ["v1", _, "vpc-endpoint-services", _, "connections", "description"]) => {
            Reply::ok(json!({"connections": []}))
        }
        ("GET", ["v1", _, "vpc-endpoint-services", _, "permissions"]) => {
            Reply::ok(json!({"permissions": [], "total_count": 0}))
        }
        ("GET", ["v1", _, "vpc-endpoints"]) => {
            Reply::ok(json!({"endpoints": [], "total_count": 0}))
        }
        ("GET", ["v1", _, "vpc-endpoints", id]) => Reply::ok(json!({
            "id": id, "status": "failed", "endpoint_service_id": SERVICE,
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
        })),
        ("DELETE", ["v1", _, "vpc-endpoints", _]) => Reply::raw(204, ""),
        ("GET", ["v1", _, "quotas"]) => Reply::ok(json!({"quotas": {"resources": [
            {"type": "endpoint", "used": 1, "quota": 150}
        ]}})),
        _ => Reply::error(404, "Test.NoRoute", "the recording server has no such route"),
    }
}

fn password_settings(url: &str) -> Settings {
    let mut s = settings(url);
    s.credentials = Credentials::Password {
        endpoint: url.to_owned(),
        user: "warden".into(),
        password: Secret::new("iam-password"),
        domain: "acme".into(),
    };
    s
}

/// Makes the warden's call for operation `name` against `url`.
async fn warden_call(name: &str, url: &str) {
    let plain = client_for(&settings(url));
    let agency = Agency {
        name: AGENCY,
        domain: AgencyDomain::Id(AGENCY_DOMAIN),
    };
    let result = match name {
        "list services" => plain.list_services().await.map(drop),
        "get service" => plain.get_service(SERVICE).await.map(drop),
        "list pending connections" => plain
            .list_connections(SERVICE, Some("pendingAcceptance"), None)
            .await
            .map(drop),
        "list connections of an endpoint" => plain
            .list_connections(SERVICE, None, Some(ENDPOINT))
            .await
            .map(drop),
        "accept a connection" => {
            plain
                .connection_action(SERVICE, ENDPOINT, ConnectionAction::Receive)
                .await
        }
        "reject a connection" => {
            plain
                .connection_action(SERVICE, ENDPOINT, ConnectionAction::Reject)
                .await
        }
        "describe connections" => {
            let described = [(ENDPOINT.to_owned(), "vpcep-warden: accepted".to_owned())];
            plain
                .describe_own_connections(SERVICE, &described)
                .await
                .map(drop)
        }
        "list whitelist records" => plain.list_permissions(SERVICE).await.map(drop),
        "list endpoints" => plain.list_endpoints().await.map(drop),
        "get endpoint" => plain.get_endpoint(ENDPOINT).await.map(drop),
        "delete endpoint" => plain.delete_endpoint(ENDPOINT).await,
        "read quotas" => plain.quotas().await.map(drop),
        "assume agency, account found" => plain
            .assume_agency(url, agency, AGENCY_DURATION_SECS)
            .await
            .map(drop),
        "assume agency, account given" => {
            let mut s = settings(url);
            s.domain_id = Some(DOMAIN.to_owned());
            client_for(&s)
                .assume_agency(url, agency, AGENCY_DURATION_SECS)
                .await
                .map(drop)
        }
        "IAM token for VPCEP" => client_for(&password_settings(url)).quotas().await.map(drop),
        "IAM token for IAM" => client_for(&password_settings(url))
            .assume_agency(url, agency, AGENCY_DURATION_SECS)
            .await
            .map(drop),
        "publish to SMN" => {
            let mut s = settings(url);
            s.smn_topic_urn = Some(format!("urn:smn:cn-north-4:{PROJECT}:vpcep-alerts"));
            s.smn_endpoint = Some(url.to_owned());
            let sinks = Sinks::from_settings(&s, &plain);
            let delivered = sinks
                .deliver("quota", vec![Alert::test(PROJECT)], false)
                .await;
            assert!(delivered.errors.is_empty(), "{:?}", delivered.errors);
            Ok(())
        }
        "read the organization" => {
            let mut s = settings(url);
            s.domain_id = Some(DOMAIN.to_owned());
            client_for(&s).organization(url, url).await.map(drop)
        }
        other => panic!("no warden call for the operation {other:?}"),
    };
    if let Err(e) = result {
        panic!("{name}: the warden's call failed: {e}");
    }
}

/// Runs `sdk_calls.py` against `url`.
fn run_sdk(url: &str) {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance/sdk_calls.py"
    );
    let output = Command::new(&python)
        .arg(script)
        .arg(url)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python} (install Python 3 and pip install -r .ci/requirements.txt): {e}"));
    assert!(
        output.status.success(),
        "the official SDK's calls failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The requests of each operation: those after its mark, up to the next.
fn by_mark(seen: &[Seen]) -> Vec<(String, Vec<Seen>)> {
    let mut out: Vec<(String, Vec<Seen>)> = Vec::new();
    for s in seen {
        if let Some(name) = s.path.strip_prefix("/__mark/") {
            let name = percent_decode(name);
            out.push((name, Vec::new()));
        } else if let Some((_, list)) = out.last_mut() {
            list.push(s.clone());
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Every difference of the warden's requests from the SDK's: (operation,
/// aspect, the request, what differs).
fn compare(
    warden: &[(String, Vec<Seen>)],
    sdk: &[(String, Vec<Seen>)],
) -> Vec<(String, Aspect, String)> {
    let mut found = Vec::new();
    for (name, skip, keep) in OPERATIONS {
        let find = |all: &[(String, Vec<Seen>)]| {
            all.iter()
                .find(|(n, _)| n == name)
                .map(|(_, s)| s.clone())
                .unwrap_or_default()
        };
        let mut ours = find(warden);
        if let Some(keep) = keep {
            ours.truncate(*keep);
        }
        ours.drain(..(*skip).min(ours.len()));
        let theirs = find(sdk);
        if ours.len() != theirs.len() {
            let list = |s: &[Seen]| {
                s.iter()
                    .map(|s| format!("{} {}", s.method, s.path))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            found.push((
                (*name).to_owned(),
                Aspect::Requests,
                format!("SDK [{}], warden [{}]", list(&theirs), list(&ours)),
            ));
            continue;
        }
        for (o, t) in ours.iter().zip(&theirs) {
            for (aspect, what) in Shape::of(o).differences(&Shape::of(t)) {
                found.push((
                    (*name).to_owned(),
                    aspect,
                    format!("{} {}: {what}", t.method, t.path),
                ));
            }
        }
    }
    found
}

#[tokio::test]
async fn every_call_is_shaped_and_signed_as_the_official_sdk_does() {
    let warden_server = TestServer::start(answer).await;
    for (name, ..) in OPERATIONS {
        let _ = crate::helpers::http()
            .get(format!(
                "{}/__mark/{}",
                warden_server.url,
                name.replace(' ', "%20")
            ))
            .send()
            .await;
        warden_call(name, &warden_server.url).await;
    }
    let sdk_server = TestServer::start(answer).await;
    let url = sdk_server.url.clone();
    tokio::task::spawn_blocking(move || run_sdk(&url))
        .await
        .expect("the SDK run");
    let warden = by_mark(&warden_server.requests());
    let sdk = by_mark(&sdk_server.requests());
    for (name, ..) in OPERATIONS {
        assert!(
            sdk.iter().any(|(n, s)| n == name && !s.is_empty()),
            "the SDK made no request for {name:?}"
        );
    }
    let found = compare(&warden, &sdk);
    let deliberate = |name: &str, aspect: Aspect| {
        DELIBERATE
            .iter()
            .any(|(n, a, _)| *n == name && *a == aspect)
    };
    let unexpected: Vec<String> = found
        .iter()
        .filter(|(name, aspect, _)| !deliberate(name, *aspect))
        .map(|(name, aspect, what)| format!("  {name}: {} differs: {what}", aspect.name()))
        .collect();
    let stale: Vec<String> = DELIBERATE
        .iter()
        .filter(|(name, aspect, _)| !found.iter().any(|(n, a, _)| n == name && a == aspect))
        .map(|(name, aspect, _)| format!("  {name}: {}", aspect.name()))
        .collect();
    assert!(
        unexpected.is_empty() && stale.is_empty(),
        "the warden's requests differ from the official SDK's:\n{}\n\
         deliberate differences that no longer occur (remove them from DELIBERATE):\n{}",
        unexpected.join("\n"),
        stale.join("\n")
    );
}
