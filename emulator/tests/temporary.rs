//! Temporary credentials: a temporary access key holds only with its own
//! security token, signed, and until it expires; permanent keys are unaffected.

use serde_json::{json, Value};
use time::{format_description::well_known::Rfc3339, Duration, OffsetDateTime};
use vpcep_emulator::TemporarySpec;

use crate::support::*;

const TEMP_AK: &str = "TEMP-AK-PROVIDER";
const TEMP_SK: &str = "temp-sk-provider";
const TOKEN: &str = "session-token-of-the-provider";

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).expect("formats")
}

/// The provider's temporary credential, expiring at `expires_at`.
fn temporary(expires_at: OffsetDateTime) -> Value {
    json!({"ak": TEMP_AK, "sk": TEMP_SK, "security_token": TOKEN, "expires_at": rfc3339(expires_at)})
}

/// The test scenario, its provider also holding the temporary credential.
fn with_temporary(expires_at: OffsetDateTime) -> Value {
    let mut s = serde_json::to_value(scenario(json!({}))).expect("serializes");
    s["accounts"][0]["temporary"] = json!([temporary(expires_at)]);
    s
}

async fn start_temporary(expires_at: OffsetDateTime) -> vpcep_emulator::Emulator {
    let s = vpcep_emulator::Scenario::from_json(&with_temporary(expires_at).to_string())
        .expect("valid scenario");
    vpcep_emulator::start(s, Default::default())
        .await
        .expect("emulator starts")
}

/// The provider calling with the temporary AK/SK and `token` (if any).
fn temp_caller(emu: &vpcep_emulator::Emulator, token: Option<&str>) -> Caller {
    Caller {
        ak: TEMP_AK.into(),
        sk: TEMP_SK.into(),
        security_token: token.map(str::to_owned),
        ..provider(emu)
    }
}

async fn refused_with(caller: &Caller) -> String {
    let answer = caller.get("/quotas").await;
    assert_eq!(
        (answer.status, answer.code()),
        (401, "APIGW.0301"),
        "{:?}",
        answer.body
    );
    let msg = answer.body["error_msg"].as_str().unwrap().to_owned();
    assert!(!msg.contains(TOKEN), "the token is never echoed: {msg}");
    msg
}

#[tokio::test]
async fn a_temporary_key_with_its_signed_token_acts_for_its_account() {
    let emu = start_temporary(OffsetDateTime::now_utc() + Duration::hours(1)).await;
    let answer = temp_caller(&emu, Some(TOKEN))
        .get("/vpc-endpoint-services")
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(emu.stats().unauthorized, 0);
}

#[tokio::test]
async fn a_temporary_key_with_another_token_is_refused() {
    let emu = start_temporary(OffsetDateTime::now_utc() + Duration::hours(1)).await;
    let msg = refused_with(&temp_caller(&emu, Some("someone-elses-token"))).await;
    assert!(msg.contains("does not belong to the access key"), "{msg}");
    assert!(!msg.contains("someone-elses-token"), "{msg}");
}

#[tokio::test]
async fn a_temporary_key_without_a_token_is_refused() {
    let emu = start_temporary(OffsetDateTime::now_utc() + Duration::hours(1)).await;
    let msg = refused_with(&temp_caller(&emu, None)).await;
    assert!(msg.contains("x-security-token not found"), "{msg}");
}

#[tokio::test]
async fn a_temporary_key_whose_token_is_not_signed_is_refused() {
    let emu = start_temporary(OffsetDateTime::now_utc() + Duration::hours(1)).await;
    let caller = temp_caller(&emu, None);
    let mut unsigned = caller.prepare("GET", &caller.path("/quotas"), None);
    unsigned
        .headers
        .push(("X-Security-Token".into(), TOKEN.into()));
    let answer = send(unsigned).await;
    assert_eq!((answer.status, answer.code()), (401, "APIGW.0301"));
    let msg = answer.body["error_msg"].as_str().unwrap();
    assert!(
        msg.contains("X-Security-Token header is not signed"),
        "{msg}"
    );
}

#[tokio::test]
async fn an_expired_temporary_key_is_refused() {
    let expired = OffsetDateTime::now_utc() - Duration::minutes(1);
    let emu = start_temporary(expired).await;
    let msg = refused_with(&temp_caller(&emu, Some(TOKEN))).await;
    assert!(msg.contains("token expires, expires_at: "), "{msg}");
}

#[tokio::test]
async fn permanent_keys_work_as_before_next_to_temporary_ones() {
    let emu = start_temporary(OffsetDateTime::now_utc() - Duration::minutes(1)).await;
    assert_eq!(provider(&emu).get("/quotas").await.status, 200);
    assert_eq!(consumer(&emu).get("/quotas").await.status, 200);
    let mut wrong = temp_caller(&emu, Some(TOKEN));
    wrong.sk = "SK-provider".into();
    let msg = refused_with(&wrong).await;
    assert!(msg.contains("verify aksk signature fail"), "{msg}");
}

#[tokio::test]
async fn the_admin_route_adds_a_temporary_key_at_run_time() {
    let emu = start(json!({})).await;
    let caller = temp_caller(&emu, Some(TOKEN));
    refused_with(&caller).await;
    let url = format!("{}/__admin/credentials", emu.base_url());
    let mut body = temporary(OffsetDateTime::now_utc() + Duration::hours(1));
    body["account"] = json!("provider");
    let added = plain("POST", &url, &[], &body.to_string()).await;
    assert_eq!(added.status, 200, "{:?}", added.body);
    assert_eq!(added.body["ak"], TEMP_AK);
    assert_eq!(caller.get("/quotas").await.status, 200);

    let state = emu.state();
    assert_eq!(state["accounts"][0]["temporary"][0]["ak"], TEMP_AK);
    assert!(!state.to_string().contains(TOKEN));
    assert!(!state.to_string().contains(TEMP_SK));

    let again = plain("POST", &url, &[], &body.to_string()).await;
    assert_eq!((again.status, again.code()), (400, "EndPoint.0002"));
    body["account"] = json!("nobody");
    body["ak"] = json!("OTHER-AK");
    let unknown = plain("POST", &url, &[], &body.to_string()).await;
    assert_eq!((unknown.status, unknown.code()), (400, "EndPoint.0002"));
    let garbled = plain("POST", &url, &[], r#"{"account": "provider"}"#).await;
    assert_eq!((garbled.status, garbled.code()), (400, "EndPoint.1004"));
}

#[tokio::test]
async fn the_library_adds_a_temporary_key_and_checks_it() {
    let emu = start(json!({})).await;
    let spec = TemporarySpec {
        ak: TEMP_AK.into(),
        sk: TEMP_SK.into(),
        security_token: TOKEN.into(),
        expires_at: "tomorrow".into(),
    };
    let err = emu.add_temporary_credential("consumer", &spec).unwrap_err();
    assert!(err.to_string().contains("expires_at"), "{err}");
    let spec = TemporarySpec {
        expires_at: rfc3339(OffsetDateTime::now_utc() + Duration::hours(1)),
        ..spec
    };
    emu.add_temporary_credential("consumer", &spec)
        .expect("added");
    let caller = Caller {
        project: CONSUMER_PROJECT.into(),
        ..temp_caller(&emu, Some(TOKEN))
    };
    assert_eq!(caller.get("/quotas").await.status, 200);
}

#[tokio::test]
async fn a_scenario_rejects_bad_or_duplicate_temporary_keys() {
    let mut s = with_temporary(OffsetDateTime::now_utc());
    s["accounts"][0]["temporary"][0]["expires_at"] = json!("soon");
    let err = vpcep_emulator::start(
        vpcep_emulator::Scenario::from_json(&s.to_string()).unwrap(),
        Default::default(),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("accounts[0].temporary[0].expires_at"),
        "{err}"
    );
    s["accounts"][0]["temporary"][0]["expires_at"] = json!("2030-01-01T00:00:00Z");
    s["accounts"][0]["temporary"][0]["ak"] = json!("AK-PROVIDER");
    let err = vpcep_emulator::start(
        vpcep_emulator::Scenario::from_json(&s.to_string()).unwrap(),
        Default::default(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("already an access key"), "{err}");
}
