//! IAM as strict as IAM: a global service, called with the account
//! (`X-Domain-Id`) and, to assume an agency, a token scoped to the account.

use serde_json::{json, Value};

use crate::support::*;

const ASSUME: &str = "/v3.0/OS-CREDENTIAL/securitytokens";

/// The provider (with a project token and an account token) and a customer
/// whose agency `warden-ops` trusts the provider.
async fn emulator() -> vpcep_emulator::Emulator {
    start(json!({"accounts": [
        {"name": "provider", "domain_id": PROVIDER_DOMAIN, "project_id": PROVIDER_PROJECT,
         "ak": "AK-PROVIDER", "sk": "SK-provider",
         "token": "token-provider", "domain_token": "domain-token-provider"},
        {"name": "consumer", "domain_id": CONSUMER_DOMAIN, "project_id": CONSUMER_PROJECT,
         "ak": "AK-CONSUMER", "sk": "SK-consumer",
         "agencies": [{"name": "warden-ops", "trusted_domain_id": PROVIDER_DOMAIN}]}
    ]}))
    .await
}

fn assume_body(agency: &str) -> Value {
    json!({"auth": {"identity": {"methods": ["assume_role"], "assume_role": {
        "domain_id": CONSUMER_DOMAIN, "agency_name": agency, "duration_seconds": 900}}}})
}

fn refused_with(answer: &Answer, status: u16, code: &str) -> String {
    assert_eq!(
        (answer.status, answer.code()),
        (status, code),
        "{:?}",
        answer.body
    );
    answer.body["error_msg"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn an_agency_is_assumed_with_the_account_signed_as_x_domain_id() {
    let emu = emulator().await;
    let p = provider(&emu);
    let body = assume_body("warden-ops");
    let answer = send(p.prepare_iam("POST", ASSUME, Some(&body), Some(PROVIDER_DOMAIN))).await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    assert!(answer.body["credential"]["access"].is_string());
}

#[tokio::test]
async fn iam_refuses_a_signed_call_that_names_a_project_or_no_account() {
    let emu = emulator().await;
    let p = provider(&emu);
    let body = assume_body("warden-ops");
    // Signed as for VPCEP: X-Project-Id, no X-Domain-Id.
    let msg = refused_with(
        &send(p.prepare("POST", ASSUME, Some(&body))).await,
        401,
        "IAM.0001",
    );
    assert!(
        msg.starts_with("The request you have made requires authentication"),
        "{msg}"
    );
    assert!(msg.contains("X-Domain-Id"), "{msg}");
    let neither = send(p.prepare_iam("POST", ASSUME, Some(&body), None)).await;
    refused_with(&neither, 401, "IAM.0001");
    let other = send(p.prepare_iam("POST", ASSUME, Some(&body), Some(CONSUMER_DOMAIN))).await;
    let msg = refused_with(&other, 401, "IAM.0001");
    assert!(msg.contains("not the account"), "{msg}");
}

#[tokio::test]
async fn an_unsigned_x_domain_id_does_not_count() {
    let emu = emulator().await;
    let p = provider(&emu);
    let body = assume_body("warden-ops");
    let mut unsigned = p.prepare_iam("POST", ASSUME, Some(&body), None);
    unsigned
        .headers
        .push(("X-Domain-Id".into(), PROVIDER_DOMAIN.into()));
    let msg = refused_with(&send(unsigned).await, 401, "IAM.0001");
    assert!(msg.contains("not among the signed headers"), "{msg}");
}

#[tokio::test]
async fn the_account_of_a_key_is_listed_without_naming_it() {
    let emu = emulator().await;
    let answer = send(provider(&emu).prepare_iam("GET", "/v3/auth/domains", None, None)).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["domains"][0]["id"], PROVIDER_DOMAIN);
    assert_eq!(answer.body["domains"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn assuming_an_agency_needs_a_token_scoped_to_the_account() {
    let emu = emulator().await;
    let url = format!("{}{ASSUME}", emu.base_url());
    let body = assume_body("warden-ops").to_string();
    let json_type = ("Content-Type", "application/json;charset=utf-8");
    let project_scoped = plain(
        "POST",
        &url,
        &[json_type, ("X-Auth-Token", "token-provider")],
        &body,
    )
    .await;
    let msg = refused_with(&project_scoped, 403, "IAM.0002");
    assert!(
        msg.starts_with("You are not authorized to perform the requested action"),
        "{msg}"
    );
    let account_scoped = plain(
        "POST",
        &url,
        &[json_type, ("X-Auth-Token", "domain-token-provider")],
        &body,
    )
    .await;
    assert_eq!(account_scoped.status, 201, "{:?}", account_scoped.body);
    // And VPCEP takes only the project-scoped one.
    let quotas = format!("{}/v1/{PROVIDER_PROJECT}/quotas", emu.base_url());
    let vpcep = plain(
        "GET",
        &quotas,
        &[("X-Auth-Token", "domain-token-provider")],
        "",
    )
    .await;
    refused_with(&vpcep, 401, "APIGW.0301");
}

#[tokio::test]
async fn iam_errors_carry_iam_codes() {
    let emu = emulator().await;
    let p = provider(&emu);
    let sign = |body: &Value| p.prepare_iam("POST", ASSUME, Some(body), Some(PROVIDER_DOMAIN));
    let unknown = send(sign(&assume_body("no-such-agency"))).await;
    let msg = refused_with(&unknown, 404, "IAM.0004");
    assert!(msg.starts_with("Could not find agency"), "{msg}");
    let bad = send(sign(&json!({"auth": {}}))).await;
    refused_with(&bad, 400, "IAM.0011");
    let untrusted = send(consumer(&emu).prepare_iam(
        "POST",
        ASSUME,
        Some(&assume_body("warden-ops")),
        Some(CONSUMER_DOMAIN),
    ))
    .await;
    refused_with(&untrusted, 403, "IAM.0002");
}
