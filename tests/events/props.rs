//! `decode` answers Ok or Err, and never panics, on any input: arbitrary
//! JSON, truncated text, deep nesting, huge strings, wrong types, and every
//! sample with each of its fields removed or replaced.

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use vpcep_warden::config::WebhookAuth;
use vpcep_warden::events::{decode, decode_value, EventError, Reply};

use super::{at, demo, samples, settings, SIGNED_AT};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        // Values the decoder looks for, so arbitrary objects reach deep branches.
        prop_oneof![
            Just(json!("Scheduled Event")),
            Just(json!("TIMER")),
            Just(json!("aws:sqs")),
            Just(json!("aws:sns")),
            Just(json!("smn")),
            Just(json!("createEndpoint")),
            Just(json!("tick")),
            Just(json!("connection")),
            Just(json!(r#"{"service_id": "s1"}"#)),
        ],
    ];
    let key = prop_oneof![
        ".{0,12}",
        prop_oneof![
            Just("warden"),
            Just("jobs"),
            Just("detail-type"),
            Just("detail"),
            Just("trigger_type"),
            Just("user_event"),
            Just("requestContext"),
            Just("http"),
            Just("httpMethod"),
            Just("headers"),
            Just("body"),
            Just("isBase64Encoded"),
            Just("Records"),
            Just("eventSource"),
            Just("EventSource"),
            Just("Sns"),
            Just("Message"),
            Just("record"),
            Just("event_source"),
            Just("smn"),
            Just("message"),
            Just("specversion"),
            Just("data"),
            Just("data_base64"),
            Just("cts"),
            Just("trace_name"),
            Just("request"),
            Just("response"),
            Just("service_id"),
            Just("endpoint_id"),
            Just("messageId"),
        ]
        .prop_map(str::to_owned),
    ];
    leaf.prop_recursive(6, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn check(event: &Value) {
    for settings in [
        demo(),
        settings(None, WebhookAuth::None),
        settings(None, WebhookAuth::Hmac),
    ] {
        if let Err(err) = decode_value(event, &settings, at(SIGNED_AT)) {
            check_error(&err);
        }
    }
}

/// Every error has a message, a status in the documented set, and an HTTP
/// reply for every 401 / 413 (those only arise from HTTP envelopes).
fn check_error(err: &EventError) {
    assert!(!err.to_string().is_empty());
    assert!([400, 401, 413].contains(&err.http_status()));
    if err.http_status() != 400 {
        assert!(
            matches!(err.reply(), Some(Reply::HttpV1 | Reply::HttpV2)),
            "{err:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics(event in json_value()) {
        check(&event);
        let bytes = serde_json::to_vec(&event).unwrap();
        let _ = decode(&bytes, &demo(), at(0));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Err(err) = decode(&bytes, &demo(), at(0)) {
            check_error(&err);
        }
    }

}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_values_in_sample_envelopes_never_panic(
        index in 0usize..64,
        value in json_value(),
    ) {
        let all = samples();
        let (_, sample) = &all[index % all.len()];
        for path in paths(sample) {
            let mut event = sample.clone();
            *event.pointer_mut(&path).unwrap() = value.clone();
            check(&event);
        }
    }

}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn huge_strings_never_panic(len in 0usize..3_000_000, fill in any::<char>()) {
        let huge = fill.to_string().repeat(len / fill.len_utf8());
        let notice = json!({"service_id": huge, "endpoint_id": huge}).to_string();
        for event in [
            json!({"warden": "connection", "service_id": huge}),
            json!({"warden": huge}),
            json!({"warden": "tick", "jobs": huge}),
            json!({"Records": [{"eventSource": "aws:sqs", "messageId": huge, "body": notice}]}),
            json!({"requestContext": {"http": {}}, "body": huge, "isBase64Encoded": true}),
            json!({"requestContext": {}, "httpMethod": "POST", "body": notice}),
            json!({"cts": {"trace_name": huge, "request": huge}}),
            json!({huge.clone(): huge}),
        ] {
            check(&event);
        }
    }
}

/// JSON pointers to every value inside `root`, found without recursion.
fn paths(root: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![(String::new(), root)];
    while let Some((path, value)) = stack.pop() {
        let children: Vec<(String, &Value)> = match value {
            Value::Object(map) => map
                .iter()
                .map(|(key, child)| (escape(key), child))
                .collect(),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, child)| (i.to_string(), child))
                .collect(),
            _ => Vec::new(),
        };
        for (segment, child) in children {
            let child_path = format!("{path}/{segment}");
            found.push(child_path.clone());
            stack.push((child_path, child));
        }
    }
    found
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn remove(event: &mut Value, path: &str) {
    let (parent, last) = path.rsplit_once('/').unwrap();
    match event.pointer_mut(parent).unwrap() {
        Value::Object(map) => {
            map.remove(&last.replace("~1", "/").replace("~0", "~"));
        }
        Value::Array(items) => {
            items.remove(last.parse::<usize>().unwrap());
        }
        _ => unreachable!("a parent is a container"),
    }
}

#[test]
fn every_sample_with_any_field_removed_or_retyped_never_panics() {
    let replacements = [
        Value::Null,
        json!(true),
        json!(0),
        json!(-1.5),
        json!(""),
        json!("x"),
        json!("{}"),
        json!([]),
        json!({}),
        json!([{}]),
    ];
    for (name, sample) in samples() {
        let paths = paths(&sample);
        assert!(!paths.is_empty(), "{name}");
        for path in &paths {
            let mut event = sample.clone();
            remove(&mut event, path);
            check(&event);
            for replacement in &replacements {
                let mut event = sample.clone();
                *event.pointer_mut(path).unwrap() = replacement.clone();
                check(&event);
            }
        }
    }
}

#[test]
fn removing_the_marker_field_makes_a_sample_unknown() {
    let markers = [
        ("eventbridge-schedule.json", "/detail-type"),
        ("functiongraph-timer.json", "/trigger_type"),
        ("direct-tick.json", "/warden"),
        ("apigw-http-v2.json", "/requestContext"),
        ("apigw-rest-v1.json", "/httpMethod"),
        ("sqs-batch.json", "/Records/0/eventSource"),
        ("sns.json", "/Records/0/EventSource"),
        ("functiongraph-smn.json", "/record/0/event_source"),
        ("cloudevents-cts.json", "/specversion"),
        ("cts-create-endpoint.json", "/cts"),
    ];
    let all = samples();
    for (file, marker) in markers {
        let (_, sample) = all.iter().find(|(name, _)| name == file).unwrap();
        let mut event = sample.clone();
        remove(&mut event, marker);
        let err = decode_value(&event, &demo(), at(SIGNED_AT)).unwrap_err();
        assert!(matches!(err, EventError::Unknown { .. }), "{file}: {err}");
    }
}

#[test]
fn every_truncation_of_every_sample_is_an_error() {
    for (name, sample) in samples() {
        let text = serde_json::to_vec(&sample).unwrap();
        for end in 0..text.len() {
            let err = decode(&text[..end], &demo(), at(SIGNED_AT))
                .expect_err(&format!("{name} cut at {end} decoded"));
            check_error(&err);
        }
    }
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    const DEPTH: usize = 10_000;
    let arrays = format!("{}{}", "[".repeat(DEPTH), "]".repeat(DEPTH));
    let objects = format!("{}null{}", r#"{"a":"#.repeat(DEPTH), "}".repeat(DEPTH));
    for text in [&arrays, &objects] {
        assert!(decode(text.as_bytes(), &demo(), at(0)).is_err());
        let wrapped = format!(r#"{{"warden": "tick", "jobs": {text}}}"#);
        assert!(decode(wrapped.as_bytes(), &demo(), at(0)).is_err());
        // Nested JSON inside strings is parsed with the same limit.
        for event in [
            json!({"Records": [{"eventSource": "aws:sqs", "messageId": "m", "body": text}]}),
            json!({"trigger_type": "TIMER", "user_event": text}),
            json!({"specversion": "1.0", "data": text}),
            json!({"cts": {"trace_name": "createEndpoint", "request": text, "response": text}}),
            json!({"warden": "connection", "service_id": text}),
        ] {
            check(&event);
        }
        let mut http = json!({"requestContext": {"http": {}}, "body": text});
        vpcep_warden::events::sign_http_event(&mut http, super::DEMO_SECRET, SIGNED_AT).unwrap();
        let err = decode_value(&http, &demo(), at(SIGNED_AT)).unwrap_err();
        assert_eq!(err.http_status(), 400, "{err}");
    }
}

#[test]
fn a_record_batch_of_wrong_types_fails_per_record() {
    let records: Vec<Value> = [Value::Null, json!(1), json!("x"), json!([]), json!({})]
        .into_iter()
        .map(|body| json!({"eventSource": "aws:sqs", "messageId": "m", "body": body}))
        .collect();
    let event = Value::Object(Map::from_iter([(
        "Records".to_owned(),
        Value::Array(records),
    )]));
    let decoded = decode_value(&event, &demo(), at(0)).unwrap();
    let vpcep_warden::events::Trigger::Connections(records) = decoded.trigger else {
        panic!("not connections")
    };
    assert_eq!(records.len(), 5);
    assert!(records.iter().all(|record| record.notice.is_err()));
}
