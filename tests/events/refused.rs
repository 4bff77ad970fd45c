//! Events the warden refuses: malformed records, traces and bodies, unknown
//! shapes and HTTP look-alikes, each error saying what was expected.

use serde_json::json;
use vpcep_warden::events::{decode, decode_value, sign_http_event, EventError, Reply, Trigger};

use super::{at, demo, sample, DEMO_SECRET, SIGNED_AT};

#[test]
fn a_malformed_queue_record_fails_alone() {
    let mut event = sample("sqs-batch.json");
    event["Records"][1]["body"] = json!("{\"endpoint_id\": \"x\"}");
    event["Records"][2]["body"] = json!(42);
    let decoded = decode_value(&event, &demo(), at(0)).unwrap();
    let Trigger::Connections(records) = decoded.trigger else {
        panic!("not connections")
    };
    assert!(records[0].notice.is_ok());
    assert_eq!(
        records[1].id.as_deref(),
        Some("2e1424d4-f796-459a-8184-9c92662be6da")
    );
    let message = records[1].notice.as_ref().unwrap_err();
    assert!(message.contains("expected a notice"), "{message}");
    assert!(message.contains("missing field `service_id`"), "{message}");
    assert_eq!(
        records[2].id.as_deref(),
        Some("6f3b9c1e-5a2d-4e7f-9b8c-0d1e2f3a4b5c")
    );
    assert!(records[2].notice.is_err());
}

#[test]
fn traces_other_than_create_endpoint_are_refused_by_name() {
    let mut event = sample("cts-create-endpoint.json");
    event["cts"]["trace_name"] = json!("deleteEndpoint");
    let err = decode_value(&event, &demo(), at(0)).unwrap_err();
    assert_eq!(err.http_status(), 400);
    assert!(
        err.to_string()
            .contains("\"deleteEndpoint\" is not handled"),
        "{err}"
    );
}

#[test]
fn unknown_events_list_the_sources_expected() {
    for event in [
        json!({"hello": "world"}),
        json!([1, 2]),
        json!("tick"),
        json!(null),
        json!({}),
    ] {
        let err = decode_value(&event, &demo(), at(0)).unwrap_err();
        assert!(matches!(err, EventError::Unknown { .. }), "{err:?}");
        assert_eq!((err.http_status(), err.reply()), (400, None));
        let message = err.to_string();
        for marker in [
            "detail-type",
            "trigger_type",
            "requestContext.http",
            "httpMethod",
            "aws:sqs",
            "aws:sns",
            "smn",
            "specversion",
            "cts",
        ] {
            assert!(message.contains(marker), "{message} lacks {marker}");
        }
    }
    let other = json!({"detail-type": "EC2 Instance State-change Notification", "detail": {}});
    let err = decode_value(&other, &demo(), at(0)).unwrap_err();
    assert!(
        err.to_string().contains("EC2 Instance State-change"),
        "{err}"
    );
}

#[test]
fn malformed_webhook_body_says_a_notice_was_expected() {
    let mut event = sample("apigw-http-v2.json");
    event["body"] = json!(r#"{"endpoint_id": "e1"}"#);
    sign_http_event(&mut event, DEMO_SECRET, SIGNED_AT).unwrap();
    let err = decode_value(&event, &demo(), at(SIGNED_AT)).unwrap_err();
    assert_eq!((err.http_status(), err.reply()), (400, Some(Reply::HttpV2)));
    let message = err.to_string();
    assert!(
        message.contains(r#"expected a notice {"service_id": "...", "endpoint_id": "..."} in the HTTP body: missing field `service_id`"#),
        "{message}"
    );
    assert!(
        std::error::Error::source(&err).is_some(),
        "the serde error is kept as the source"
    );
}

#[test]
fn malformed_events_say_what_was_expected() {
    let cases = [
        (json!({"warden": "sweep"}), "\"warden\": \"tick\""),
        (
            json!({"warden": "tick", "jobs": ["approve", "purge"]}),
            "unknown job \"purge\"",
        ),
        (
            json!({"warden": "connection", "service_id": ""}),
            "service_id is empty",
        ),
        (
            json!({"detail-type": "Scheduled Event", "detail": {"jobs": 5}}),
            "approve, quota or gc",
        ),
        (
            json!({"trigger_type": "TIMER", "user_event": "{\"jobs\": [\"gc\""}),
            "user_event as JSON",
        ),
        (
            json!({"trigger_type": "TIMER", "user_event": "gc,quotaa"}),
            "unknown job \"quotaa\"",
        ),
        (
            json!({"trigger_type": "TIMER", "user_event": {"warden": "connection"}}),
            "must be \"tick\" or \"fanout\"",
        ),
        (
            json!({"specversion": "1.0", "type": "x"}),
            "data holding a notice",
        ),
        (
            json!({"cts": {"trace_name": "createEndpoint"}}),
            "endpoint_service_id",
        ),
        (json!({"cts": "trace"}), "cts holding a CTS trace"),
    ];
    for (event, expected) in cases {
        let err = decode_value(&event, &demo(), at(0)).unwrap_err();
        assert!(matches!(err, EventError::Malformed { .. }), "{err:?}");
        assert_eq!(err.http_status(), 400);
        assert!(err.to_string().contains(expected), "{err} lacks {expected}");
    }
    let err = decode(b"{\"warden\": \"tick\"", &demo(), at(0)).unwrap_err();
    assert!(err.to_string().contains("expected a JSON event"), "{err}");
}

#[test]
fn http_look_alikes_that_are_not_webhooks_are_refused_as_unknown() {
    let body = "{\"service_id\": \"x\"}";
    let cases = [
        json!({"type": "REQUEST", "methodArn": "arn:aws:execute-api:eu-west-1:1:a/prod/POST/webhook",
               "httpMethod": "POST", "requestContext": {"stage": "prod"}, "headers": {}}),
        json!({"version": "2.0", "type": "REQUEST", "routeArn": "arn:aws:execute-api:eu-west-1:1:a/$default/POST/webhook",
               "requestContext": {"http": {"method": "POST"}}, "headers": {}}),
        json!({"requestContext": {"routeKey": "$default", "eventType": "MESSAGE", "connectionId": "abc="},
               "body": body, "isBase64Encoded": false}),
        json!({"requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/w/1"}},
               "httpMethod": "POST", "path": "/webhook", "headers": {}, "body": body, "isBase64Encoded": false}),
    ];
    for event in cases {
        let err = decode_value(&event, &demo(), at(0)).unwrap_err();
        assert!(
            matches!(err, EventError::Unknown { .. }),
            "{event}: {err:?}"
        );
        assert_eq!(err.reply(), None, "not answered as a webhook");
    }
}
