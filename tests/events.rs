//! Every sample event decodes to the trigger it is named for; hostile input never panics.
//!
//! The HTTP samples are signed with the demo secret `demo-webhook-secret` at
//! [`SIGNED_AT`]; tests decode them with that instant as "now".

// Resolved the same way whether this file is a module of `tests/main.rs` or compiled alone.
#[path = "events/props.rs"]
mod props;
#[path = "events/refused.rs"]
mod refused;
#[path = "events/webhook.rs"]
mod webhook;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use time::OffsetDateTime;
use vpcep_warden::config::{Secret, Settings, WebhookAuth};
use vpcep_warden::events::{
    decode, decode_value, Decoded, EventError, Job, Notice, Record, Reply, Trigger,
};

/// The secret the HTTP samples are signed with.
pub const DEMO_SECRET: &str = "demo-webhook-secret";
/// The `X-Warden-Timestamp` of every HTTP sample (2026-11-20T09:30:00Z).
pub const SIGNED_AT: i64 = 1_795_167_000;

pub const S1: &str = "b1a0c3e8-0000-4000-8000-000000000001";
pub const S2: &str = "b1a0c3e8-0000-4000-8000-000000000002";

pub fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("events")
}

/// Every `events/*.json` file, by name, with its parsed content.
pub fn samples() -> Vec<(String, Value)> {
    let mut files: Vec<_> = std::fs::read_dir(events_dir())
        .expect("events/ is readable")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read(&path).expect("sample is readable");
            let value = serde_json::from_slice(&text).unwrap_or_else(|err| panic!("{name}: {err}"));
            (name, value)
        })
        .collect()
}

pub fn settings(secret: Option<&str>, auth: WebhookAuth) -> Settings {
    let mut settings = Settings::for_tests("http://127.0.0.1:9", "project", "ak", "sk");
    settings.webhook_secret = secret.map(Secret::new);
    settings.webhook_auth = auth;
    settings
}

pub fn demo() -> Settings {
    settings(Some(DEMO_SECRET), WebhookAuth::Hmac)
}

pub fn at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap()
}

pub fn sample(name: &str) -> Value {
    let text = std::fs::read(events_dir().join(name)).unwrap();
    serde_json::from_slice(&text).unwrap()
}

pub fn ep(n: u8) -> String {
    format!("e0000000-0000-4000-8000-{n:012}")
}

fn notice(service: &str, endpoint: Option<u8>) -> Notice {
    Notice {
        service_id: service.to_owned(),
        endpoint_id: endpoint.map(ep),
        target: None,
    }
}

pub fn one(service: &str, endpoint: u8) -> Trigger {
    Trigger::Connections(vec![Record {
        id: None,
        notice: Ok(notice(service, Some(endpoint))),
    }])
}

fn tick(jobs: &[Job]) -> Trigger {
    Trigger::Tick {
        jobs: jobs.to_vec(),
        targets: Vec::new(),
    }
}

fn with_id(id: &str, notice: Notice) -> Record {
    Record {
        id: Some(id.to_owned()),
        notice: Ok(notice),
    }
}

/// file → what it decodes to.
fn expected() -> Vec<(&'static str, Decoded)> {
    let d = |source, trigger, reply| Decoded {
        source,
        trigger,
        reply,
    };
    use Job::*;
    use Reply::*;
    vec![
        ("apigw-http-v2.json", d("apigw-http", one(S1, 2), HttpV2)),
        ("apigw-rest-v1.json", d("apigw-rest", one(S1, 4), HttpV1)),
        ("cloudevents-cts.json", d("cloudevents", one(S2, 3), Report)),
        ("cts-create-endpoint.json", d("cts", one(S1, 2), Report)),
        ("direct-connection.json", d("direct", one(S1, 1), Report)),
        (
            "direct-tick.json",
            d("direct", tick(&[Approve, Gc]), Report),
        ),
        (
            "eventbridge-schedule-quota.json",
            d("eventbridge", tick(&[Quota]), Report),
        ),
        (
            "eventbridge-schedule.json",
            d("eventbridge", tick(&Job::ALL), Report),
        ),
        ("function-url.json", d("function-url", one(S2, 3), HttpV2)),
        (
            "functiongraph-apig.json",
            d("functiongraph-apig", one(S2, 5), HttpV1),
        ),
        (
            "functiongraph-smn.json",
            d(
                "functiongraph-smn",
                Trigger::Connections(vec![with_id(
                    "a51671f77d4a479cacb09e2cd591a983",
                    notice(S1, Some(9)),
                )]),
                Report,
            ),
        ),
        (
            "functiongraph-timer.json",
            d("functiongraph-timer", tick(&[Approve, Gc]), Report),
        ),
        (
            "sns.json",
            d(
                "sns",
                Trigger::Connections(vec![with_id(
                    "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                    notice(S2, Some(8)),
                )]),
                Report,
            ),
        ),
        (
            "sqs-batch.json",
            d(
                "sqs",
                Trigger::Connections(vec![
                    with_id("059f36b4-87a3-44ab-83d2-661975830a7d", notice(S1, Some(6))),
                    with_id("2e1424d4-f796-459a-8184-9c92662be6da", notice(S2, None)),
                    with_id("6f3b9c1e-5a2d-4e7f-9b8c-0d1e2f3a4b5c", notice(S1, Some(7))),
                ]),
                Sqs,
            ),
        ),
    ]
}

#[test]
fn every_sample_decodes_to_the_trigger_it_is_named_for() {
    let table = expected();
    let files = samples();
    let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    for name in &names {
        assert!(
            table.iter().any(|(file, _)| file == name),
            "events/{name} is not in the table of expected triggers"
        );
    }
    for (file, want) in &table {
        assert!(names.contains(file), "events/{file} is missing");
        let bytes = std::fs::read(events_dir().join(file)).unwrap();
        let got =
            decode(&bytes, &demo(), at(SIGNED_AT)).unwrap_or_else(|err| panic!("{file}: {err}"));
        assert_eq!(&got, want, "{file}");
    }
}

#[test]
fn sns_never_decodes_as_sqs_and_sqs_never_as_sns() {
    let sns = decode_value(&sample("sns.json"), &demo(), at(SIGNED_AT)).unwrap();
    assert_eq!((sns.source, sns.reply), ("sns", Reply::Report));
    let sqs = decode_value(&sample("sqs-batch.json"), &demo(), at(SIGNED_AT)).unwrap();
    assert_eq!((sqs.source, sqs.reply), ("sqs", Reply::Sqs));

    // Without its own marker neither falls back on the other format.
    let mut sns = sample("sns.json");
    sns["Records"][0]["EventSource"] = json!("aws:sqs");
    assert!(matches!(
        decode_value(&sns, &demo(), at(0)),
        Err(EventError::Unknown { .. })
    ));
    let mut sqs = sample("sqs-batch.json");
    sqs["Records"][0]["eventSource"] = json!("aws:sns");
    assert!(matches!(
        decode_value(&sqs, &demo(), at(0)),
        Err(EventError::Unknown { .. })
    ));
}

#[test]
fn base64_bodies_are_decoded_before_verification_and_parsing() {
    let event = sample("apigw-rest-v1.json");
    assert_eq!(event["isBase64Encoded"], json!(true));
    assert!(!event["body"].as_str().unwrap().contains("service_id"));
    let decoded = decode_value(&event, &demo(), at(SIGNED_AT)).unwrap();
    assert_eq!(decoded.trigger, one(S1, 4));

    let mut bad = event.clone();
    bad["body"] = json!("not base64 !!");
    let err = decode_value(&bad, &demo(), at(SIGNED_AT)).unwrap_err();
    assert_eq!((err.http_status(), err.reply()), (400, Some(Reply::HttpV1)));
    assert!(err.to_string().contains("base64"), "{err}");
}

#[test]
fn cts_trace_request_may_be_a_string_or_an_object() {
    let mut event = sample("cts-create-endpoint.json");
    assert!(event["cts"]["request"].is_string());
    let from_string = decode_value(&event, &demo(), at(0)).unwrap();
    let request: Value = serde_json::from_str(event["cts"]["request"].as_str().unwrap()).unwrap();
    event["cts"]["request"] = request;
    event["cts"]["response"] = Value::Null;
    let from_object = decode_value(&event, &demo(), at(0)).unwrap();
    assert_eq!(from_string.trigger, one(S1, 2));
    assert_eq!(from_object.trigger, from_string.trigger);

    let cloud = sample("cloudevents-cts.json");
    assert!(cloud["data"]["request"].is_object());
    assert_eq!(
        decode_value(&cloud, &demo(), at(0)).unwrap().trigger,
        one(S2, 3)
    );
}

#[test]
fn schedules_may_name_jobs_as_a_comma_separated_string() {
    let mut event = sample("eventbridge-schedule.json");
    event["detail"] = json!({"jobs": "gc,quota"});
    let decoded = decode_value(&event, &demo(), at(0)).unwrap();
    assert_eq!(decoded.trigger, tick(&[Job::Quota, Job::Gc]));
    let timer = json!({"trigger_type": "TIMER", "user_event": {"jobs": ["quota"]}});
    assert_eq!(
        decode_value(&timer, &demo(), at(0)).unwrap().trigger,
        tick(&[Job::Quota])
    );
    let plain = json!({"trigger_type": "TIMER", "user_event": ""});
    assert_eq!(
        decode_value(&plain, &demo(), at(0)).unwrap().trigger,
        tick(&Job::ALL)
    );
}

/// The AWS samples are faithful to the real formats: they parse as the
/// `aws_lambda_events` types, and keep the fields the warden reads.
#[test]
fn aws_samples_parse_as_the_official_types() {
    use aws_lambda_events::event::{apigw, cloudwatch_events, lambda_function_urls, sns, sqs};
    fn parse<T: serde::de::DeserializeOwned>(file: &str) -> T {
        serde_json::from_value(sample(file)).unwrap_or_else(|err| panic!("{file}: {err}"))
    }
    let http: apigw::ApiGatewayV2httpRequest = parse("apigw-http-v2.json");
    assert_eq!(
        http.request_context.http.method,
        aws_lambda_events::http::Method::POST
    );
    let url: lambda_function_urls::LambdaFunctionUrlRequest = parse("function-url.json");
    assert!(url
        .request_context
        .domain_name
        .unwrap()
        .contains(".lambda-url."));
    let rest: apigw::ApiGatewayProxyRequest = parse("apigw-rest-v1.json");
    assert!(rest.is_base64_encoded);
    let queue: sqs::SqsEvent = parse("sqs-batch.json");
    assert_eq!(queue.records.len(), 3);
    assert!(queue
        .records
        .iter()
        .all(|r| r.message_id.is_some() && r.body.is_some()));
    let topic: sns::SnsEvent = parse("sns.json");
    assert_eq!(topic.records[0].event_source, "aws:sns");
    for file in [
        "eventbridge-schedule.json",
        "eventbridge-schedule-quota.json",
    ] {
        let event: cloudwatch_events::CloudWatchEvent = parse(file);
        assert_eq!(
            event.detail_type.as_deref(),
            Some("Scheduled Event"),
            "{file}"
        );
    }
}

#[test]
fn a_plain_text_timer_event_runs_the_jobs_it_names_in_any_case_and_nothing_else() {
    for (text, jobs) in [
        ("approve, gc", vec![Job::Approve, Job::Gc]),
        ("approve gc", vec![Job::Approve, Job::Gc]),
        ("Approve", vec![Job::Approve]),
        ("QUOTA,Gc", vec![Job::Quota, Job::Gc]),
    ] {
        let timer = json!({"trigger_type": "TIMER", "user_event": text});
        assert_eq!(
            decode_value(&timer, &demo(), at(0)).unwrap().trigger,
            tick(&jobs),
            "{text}"
        );
    }
    // Anything else is refused: never read as "every job", gc's deletions included.
    for text in [
        "User Event",
        "every job please",
        "nightly tick #3",
        "approve;gc",
    ] {
        let timer = json!({"trigger_type": "TIMER", "user_event": text});
        let err = decode_value(&timer, &demo(), at(0)).unwrap_err();
        assert!(err.to_string().contains("not a job"), "{text}: {err}");
    }
}
