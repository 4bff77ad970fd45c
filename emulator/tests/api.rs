//! Every operation through signed requests.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn versions_are_listed_without_credentials() {
    let emu = start(json!({})).await;
    let all = plain("GET", &format!("{}/", emu.base_url()), &[], "").await;
    assert_eq!(all.status, 200);
    assert_eq!(all.body["versions"][0]["id"], "v1");
    let v1 = plain("GET", &format!("{}/v1", emu.base_url()), &[], "").await;
    assert_eq!(v1.body["version"]["status"], "CURRENT");
    let v9 = plain("GET", &format!("{}/v9", emu.base_url()), &[], "").await;
    assert_eq!((v9.status, v9.code()), (404, "EndPoint.0005"));
}

#[tokio::test]
async fn a_service_is_created_shown_updated_listed_described_and_deleted() {
    let emu = start(json!({})).await;
    let p = provider(&emu);
    let created = p
        .post("/vpc-endpoint-services", service_body("web", true))
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["status"], "available");
    assert_eq!(created.body["ports"][0]["client_port"], 8080);

    let shown = p.get(&format!("/vpc-endpoint-services/{id}")).await;
    assert_eq!(
        (shown.status, &shown.body["service_name"]),
        (200, &json!("web"))
    );

    let body = json!({"approval_enabled": false, "service_name": "web2"});
    let updated = p
        .call(
            "PUT",
            &p.path(&format!("/vpc-endpoint-services/{id}")),
            Some(body),
        )
        .await;
    assert_eq!(updated.status, 200);
    assert_eq!(updated.body["approval_enabled"], false);
    assert_eq!(updated.body["service_name"], "web2");

    let listed = p
        .get("/vpc-endpoint-services?endpoint_service_name=WEB&limit=100")
        .await;
    assert_eq!(listed.body["total_count"], 1);
    assert_eq!(listed.body["endpoint_services"][0]["id"], id.as_str());
    let none = p
        .get("/vpc-endpoint-services?endpoint_service_name=nothing")
        .await;
    assert_eq!(none.body["total_count"], 0);
    let bad = p.get("/vpc-endpoint-services?status=sleeping").await;
    assert_eq!((bad.status, bad.code()), (400, "EndPoint.0019"));

    let c = consumer(&emu);
    let by_id = c
        .get(&format!("/vpc-endpoint-services/describe?id={id}"))
        .await;
    assert_eq!(
        (by_id.status, &by_id.body["service_name"]),
        (200, &json!("web2"))
    );
    let by_name = c
        .get("/vpc-endpoint-services/describe?endpoint_service_name=web2")
        .await;
    assert_eq!(by_name.body["id"], id.as_str());
    let neither = c.get("/vpc-endpoint-services/describe").await;
    assert_eq!(neither.status, 400);
    let hidden = c.get(&format!("/vpc-endpoint-services/{id}")).await;
    assert_eq!((hidden.status, hidden.code()), (400, "EndPoint.2003"));

    let deleted = p.delete(&format!("/vpc-endpoint-services/{id}")).await;
    assert_eq!(deleted.status, 204);
    let gone = p.get(&format!("/vpc-endpoint-services/{id}")).await;
    assert_eq!((gone.status, gone.code()), (400, "EndPoint.2003"));
}

#[tokio::test]
async fn a_service_in_use_cannot_be_deleted() {
    let emu =
        start(json!({"services": [{"id": "s1", "connections": [{"status": "accepted"}]}]})).await;
    let answer = provider(&emu).delete("/vpc-endpoint-services/s1").await;
    assert_eq!((answer.status, answer.code()), (400, "EndPoint.3006"));
}

#[tokio::test]
async fn public_services_are_listed_for_every_account() {
    let emu = start(json!({"services": [
        {"id": "pub", "service_name": "obs", "public": true},
        {"id": "own", "service_name": "private"}
    ]}))
    .await;
    let listed = consumer(&emu).get("/vpc-endpoint-services/public").await;
    assert_eq!(listed.body["total_count"], 1);
    assert_eq!(listed.body["endpoint_services"][0]["id"], "pub");
    assert_eq!(listed.body["endpoint_services"][0]["is_charge"], false);
}

#[tokio::test]
async fn an_endpoint_is_created_shown_listed_and_deleted() {
    let emu = start(json!({"services": [{"id": "s1", "approval_enabled": false}]})).await;
    let c = consumer(&emu);
    let created = c.post("/vpc-endpoints", endpoint_body("s1")).await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["status"], "accepted");
    assert_eq!(created.body["tags"][0]["key"], "team");
    assert!(created.body["marker_id"].is_u64());

    let shown = c.get(&format!("/vpc-endpoints/{id}")).await;
    assert_eq!(shown.body["endpoint_service_id"], "s1");
    let listed = c.get("/vpc-endpoints?limit=1000").await;
    assert_eq!(listed.body["total_count"], 1);
    let by_vpc = c.get("/vpc-endpoints?vpc_id=other").await;
    assert_eq!(by_vpc.body["total_count"], 0);
    let by_name = c.get("/vpc-endpoints?endpoint_service_name=SVC").await;
    assert_eq!(by_name.body["total_count"], 1);

    assert_eq!(
        provider(&emu)
            .get(&format!("/vpc-endpoints/{id}"))
            .await
            .status,
        404
    );
    assert_eq!(c.delete(&format!("/vpc-endpoints/{id}")).await.status, 204);
    let gone = c.get(&format!("/vpc-endpoints/{id}")).await;
    assert_eq!((gone.status, gone.code()), (404, "EndPoint.2006"));
    let again = c.delete(&format!("/vpc-endpoints/{id}")).await;
    assert_eq!((again.status, again.code()), (404, "EndPoint.2006"));
}

#[tokio::test]
async fn quotas_count_what_each_account_uses() {
    let emu = start(json!({
        "quotas": {"endpoint": 7, "endpoint_service": 3},
        "services": [{"id": "s1"}, {"id": "s2"}],
        "endpoints": [{"owner": "consumer", "endpoint_service_id": "s1"}, {"owner": "provider"}]
    }))
    .await;
    let all = provider(&emu).get("/quotas").await;
    let resources = all.body["quotas"]["resources"].as_array().unwrap().clone();
    assert!(resources.contains(&json!({"type": "endpoint_service", "used": 2, "quota": 3})));
    assert!(resources.contains(&json!({"type": "endpoint", "used": 1, "quota": 7})));
    let only = consumer(&emu).get("/quotas?type=endpoint").await;
    assert_eq!(
        only.body["quotas"]["resources"],
        json!([{"type": "endpoint", "used": 1, "quota": 7}])
    );
    let bad = consumer(&emu).get("/quotas?type=disk").await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn whitelist_records_are_listed_added_and_removed() {
    let emu = start(json!({"services": [{"id": "s1", "permissions": ["iam:domain::aaa"]}]})).await;
    let p = provider(&emu);
    let add = json!({"action": "add", "permissions": ["iam:domain::bbb", "*"]});
    let added = p
        .post("/vpc-endpoint-services/s1/permissions/action", add)
        .await;
    assert_eq!(
        added.body["permissions"],
        json!(["iam:domain::aaa", "iam:domain::bbb", "*"])
    );
    let listed = p
        .get("/vpc-endpoint-services/s1/permissions?limit=2&sort_dir=asc")
        .await;
    assert_eq!(listed.body["total_count"], 3);
    assert_eq!(listed.body["permissions"].as_array().unwrap().len(), 2);
    let fuzzy = p
        .get("/vpc-endpoint-services/s1/permissions?permission=bbb")
        .await;
    assert_eq!(fuzzy.body["total_count"], 1);
    let remove = json!({"action": "remove", "permissions": ["*"]});
    let removed = p
        .post("/vpc-endpoint-services/s1/permissions/action", remove)
        .await;
    assert_eq!(
        removed.body["permissions"],
        json!(["iam:domain::aaa", "iam:domain::bbb"])
    );
    let bad = json!({"action": "add", "permissions": ["domain::x"]});
    let refused = p
        .post("/vpc-endpoint-services/s1/permissions/action", bad)
        .await;
    assert_eq!((refused.status, refused.code()), (400, "EndPoint.3002"));
    let wrong = json!({"action": "grant", "permissions": ["*"]});
    assert_eq!(
        p.post("/vpc-endpoint-services/s1/permissions/action", wrong)
            .await
            .status,
        400
    );
    let too_many = p
        .get("/vpc-endpoint-services/s1/permissions?limit=501")
        .await;
    assert_eq!(too_many.code(), "EndPoint.0006");
}

#[tokio::test]
async fn bad_bodies_are_refused_with_a_message() {
    let emu = start(json!({"services": [{"id": "s1"}]})).await;
    let p = provider(&emu);
    for (path, body) in [
        ("/vpc-endpoint-services", "{not json"),
        ("/vpc-endpoints", "[1, 2]"),
        ("/vpc-endpoint-services/s1/connections/action", ""),
        ("/vpc-endpoint-services/s1/permissions/action", "\"x\""),
    ] {
        let answer = send(raw_signed(&p, path, body)).await;
        assert_eq!(answer.status, 400, "{path}: {:?}", answer.body);
        assert_eq!(answer.code(), "EndPoint.1004", "{path}");
        assert!(!answer.body["error_msg"].as_str().unwrap().is_empty());
    }
    let missing = p
        .post("/vpc-endpoint-services", json!({"vpc_id": "v"}))
        .await;
    assert_eq!((missing.status, missing.code()), (400, "EndPoint.0002"));
    let bad_ports = p
        .post(
            "/vpc-endpoint-services",
            json!({"port_id": "p", "vpc_id": "v",
        "server_type": "LB", "ports": [{"client_port": 0, "server_port": 80}]}),
        )
        .await;
    assert_eq!(bad_ports.code(), "EndPoint.3043");
    let no_service = p.post("/vpc-endpoints", json!({"vpc_id": "v"})).await;
    assert_eq!(no_service.code(), "EndPoint.2029");
    let unknown_service = p.post("/vpc-endpoints", endpoint_body("nope")).await;
    assert_eq!(unknown_service.code(), "EndPoint.2003");
}

/// A request signed over an arbitrary (invalid JSON) body.
fn raw_signed(caller: &Caller, path: &str, body: &str) -> Prepared {
    use hwcloud_sign::{sign, Request, SigningKey};
    let url = format!("{}{}", caller.base, caller.path(path));
    let request = Request::new("POST", &url)
        .unwrap()
        .header("Content-Type", "application/json")
        .body(body.as_bytes().to_vec());
    let signed = sign(
        &request,
        &SigningKey::new(&caller.ak, &caller.sk),
        time::OffsetDateTime::now_utc(),
    );
    let mut headers = request.headers.clone();
    headers.push(("X-Sdk-Date".into(), signed.date));
    headers.push(("Authorization".into(), signed.authorization));
    Prepared {
        method: "POST".into(),
        url,
        headers,
        body: body.as_bytes().to_vec(),
    }
}

#[tokio::test]
async fn unknown_paths_answer_404_and_every_answer_has_a_request_id() {
    let emu = start(json!({})).await;
    let p = provider(&emu);
    let unknown = p.get("/vpc-nothing").await;
    assert_eq!((unknown.status, unknown.code()), (404, "EndPoint.0005"));
    assert!(unknown.request_id.is_some());
    let ok = p.get("/quotas").await;
    let unauth = plain(
        "GET",
        &format!("{}/v1/{PROVIDER_PROJECT}/quotas", emu.base_url()),
        &[],
        "",
    )
    .await;
    let admin = plain("GET", &format!("{}/__admin/stats", emu.base_url()), &[], "").await;
    for answer in [&ok, &unauth, &admin] {
        assert_eq!(
            answer.request_id.as_ref().map(String::len),
            Some(32),
            "{answer:?}"
        );
    }
    assert_ne!(ok.request_id, unauth.request_id);
}

#[tokio::test]
async fn an_account_token_authenticates_in_x_auth_token() {
    let emu = start(json!({"services": [{"id": "s1"}]})).await;
    let url = format!(
        "{}/v1/{PROVIDER_PROJECT}/vpc-endpoint-services",
        emu.base_url()
    );
    let ok = plain("GET", &url, &[("X-Auth-Token", "token-provider")], "").await;
    assert_eq!((ok.status, &ok.body["total_count"]), (200, &json!(1)));
    let bad = plain("GET", &url, &[("X-Auth-Token", "guess")], "").await;
    assert_eq!((bad.status, bad.code()), (401, "APIGW.0301"));
}

#[tokio::test]
async fn odd_requests_get_answers_and_never_break_the_server() {
    let emu = start(json!({"services": [{"id": "ééééééééé-ü"}]})).await;
    let p = provider(&emu);
    for path in [
        "/vpc-endpoints/%F0%9F%98%80",
        "/vpc-endpoints?limit=99999999999999999999999",
        "/vpc-endpoints?offset=18446744073709551615&limit=1000",
        "/vpc-endpoints?sort_dir=%E2%9C%93&sort_key=",
        "/vpc-endpoint-services/%C3%A9/connections?marker_id=-1",
        "/vpc-endpoint-services/describe?id=%00",
        "/quotas?type=&type=endpoint",
    ] {
        let answer = p.get(path).await;
        assert!(
            matches!(answer.status, 200 | 400 | 404),
            "{path}: {answer:?}"
        );
        assert!(answer.request_id.is_some());
    }
    let listed = p.get("/vpc-endpoint-services").await;
    assert_eq!(
        listed.body["endpoint_services"][0]["service_name"],
        "svc-éééééééé"
    );
    let huge = json!({"generate": {"services": 1_000_000, "connections_per_service": 1_000_000}});
    let refused = vpcep_emulator::start(scenario(huge), Default::default()).await;
    assert!(matches!(refused, Err(vpcep_emulator::Error::Scenario(_))));
    let slow = vpcep_emulator::Options {
        transition_ms: u64::MAX,
        ..Default::default()
    };
    assert!(emu.set_faults(slow).is_err());
}

#[tokio::test]
async fn a_failed_service_carries_its_error_as_a_failed_connection_does() {
    let emu = start(json!({"services": [
        {"id": "s-failed", "status": "failed"},
        {"id": "s-ok"}
    ]}))
    .await;
    let p = provider(&emu);
    let failed = p.get("/vpc-endpoint-services/s-failed").await;
    assert_eq!(failed.body["status"], "failed");
    let error = &failed.body["error"][0];
    assert_eq!(error["error_code"], "EndPoint.2004");
    assert_eq!(error["code"], "EndPoint.2004");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    let listed = p.get("/vpc-endpoint-services?status=failed").await;
    assert_eq!(
        listed.body["endpoint_services"][0]["error"],
        failed.body["error"]
    );
    let fine = p.get("/vpc-endpoint-services/s-ok").await;
    assert!(fine.body.get("error").is_none(), "{:?}", fine.body);
}
