//! Helpers: scenarios, and a client that signs requests with `hwcloud_sign::sign`.

use hwcloud_sign::{sign, Request, SigningKey};
use serde_json::{json, Value};
use time::OffsetDateTime;
use vpcep_emulator::{Emulator, Options, Scenario};

pub const PROVIDER_PROJECT: &str = "proj-provider";
pub const CONSUMER_PROJECT: &str = "proj-consumer";
pub const PROVIDER_DOMAIN: &str = "0a1b2c3d4e5f4a0b9c8d7e6f5a4b3c21";
pub const CONSUMER_DOMAIN: &str = "9f8e7d6c5b4a49380716253443526170";

/// Two accounts, `provider` (with a token) and `consumer`, plus `extra` JSON fields.
pub fn scenario(extra: Value) -> Scenario {
    let mut base = json!({
        "accounts": [
            {"name": "provider", "domain_id": PROVIDER_DOMAIN, "project_id": PROVIDER_PROJECT,
             "ak": "AK-PROVIDER", "sk": "SK-provider", "token": "token-provider"},
            {"name": "consumer", "domain_id": CONSUMER_DOMAIN, "project_id": CONSUMER_PROJECT,
             "ak": "AK-CONSUMER", "sk": "SK-consumer"}
        ]
    });
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        b.extend(e);
    }
    Scenario::from_json(&base.to_string()).expect("test scenario is valid")
}

pub async fn start(extra: Value) -> Emulator {
    start_with(extra, Options::default()).await
}

pub async fn start_with(extra: Value, options: Options) -> Emulator {
    vpcep_emulator::start(scenario(extra), options)
        .await
        .expect("emulator starts")
}

/// An answer: status, JSON body (Null when empty) and the request id header.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub request_id: Option<String>,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["error_code"].as_str().unwrap_or_default()
    }
}

/// A signed request not yet sent, so that tests can tamper with it.
pub struct Prepared {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// A caller with one account's credentials.
#[derive(Clone)]
pub struct Caller {
    pub base: String,
    pub ak: String,
    pub sk: String,
    pub project: String,
    pub security_token: Option<String>,
}

pub fn provider(emu: &Emulator) -> Caller {
    Caller {
        base: emu.base_url(),
        ak: "AK-PROVIDER".into(),
        sk: "SK-provider".into(),
        project: PROVIDER_PROJECT.into(),
        security_token: None,
    }
}

pub fn consumer(emu: &Emulator) -> Caller {
    Caller {
        base: emu.base_url(),
        ak: "AK-CONSUMER".into(),
        sk: "SK-consumer".into(),
        project: CONSUMER_PROJECT.into(),
        security_token: None,
    }
}

impl Caller {
    /// `/v1/{project}{rest}`.
    pub fn path(&self, rest: &str) -> String {
        format!("/v1/{}{rest}", self.project)
    }

    /// Signs `method path_and_query` with `body` at `at`.
    pub fn prepare_at(
        &self,
        method: &str,
        path_and_query: &str,
        body: Option<&Value>,
        at: OffsetDateTime,
    ) -> Prepared {
        let url = format!("{}{path_and_query}", self.base);
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let mut request = Request::new(method, &url)
            .expect("test URL is absolute")
            .header("Content-Type", "application/json")
            .header("X-Project-Id", &self.project)
            .body(body.clone());
        if let Some(token) = &self.security_token {
            request = request.header("X-Security-Token", token);
        }
        let signed = sign(&request, &SigningKey::new(&self.ak, &self.sk), at);
        let mut headers = request.headers.clone();
        headers.push(("X-Sdk-Date".into(), signed.date));
        headers.push(("Authorization".into(), signed.authorization));
        Prepared {
            method: method.into(),
            url,
            headers,
            body,
        }
    }

    /// Signs a call to IAM (a global service): `X-Domain-Id` instead of
    /// `X-Project-Id` when `domain_id` is given, else neither.
    pub fn prepare_iam(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        domain_id: Option<&str>,
    ) -> Prepared {
        let url = format!("{}{path}", self.base);
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let mut request = Request::new(method, &url)
            .expect("test URL is absolute")
            .header("Content-Type", "application/json;charset=utf-8")
            .body(body.clone());
        if let Some(domain_id) = domain_id {
            request = request.header("X-Domain-Id", domain_id);
        }
        let signed = sign(
            &request,
            &SigningKey::new(&self.ak, &self.sk),
            OffsetDateTime::now_utc(),
        );
        let mut headers = request.headers.clone();
        headers.push(("X-Sdk-Date".into(), signed.date));
        headers.push(("Authorization".into(), signed.authorization));
        Prepared {
            method: method.into(),
            url,
            headers,
            body,
        }
    }

    pub fn prepare(&self, method: &str, path_and_query: &str, body: Option<&Value>) -> Prepared {
        self.prepare_at(method, path_and_query, body, OffsetDateTime::now_utc())
    }

    /// Signs and sends.
    pub async fn call(&self, method: &str, path_and_query: &str, body: Option<Value>) -> Answer {
        send(self.prepare(method, path_and_query, body.as_ref())).await
    }

    pub async fn get(&self, rest: &str) -> Answer {
        self.call("GET", &self.path(rest), None).await
    }

    pub async fn post(&self, rest: &str, body: Value) -> Answer {
        self.call("POST", &self.path(rest), Some(body)).await
    }

    pub async fn delete(&self, rest: &str) -> Answer {
        self.call("DELETE", &self.path(rest), None).await
    }
}

/// A client for the tests' requests (plain HTTP to the emulator; reqwest
/// still wants a crypto provider in place).
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// Sends a prepared request as it is.
pub async fn send(p: Prepared) -> Answer {
    let client = client();
    let method = reqwest::Method::from_bytes(p.method.as_bytes()).expect("valid method");
    let mut req = client.request(method, &p.url).body(p.body);
    for (k, v) in &p.headers {
        req = req.header(k, v);
    }
    let resp = req.send().await.expect("the emulator answers");
    let status = resp.status().as_u16();
    let request_id = resp
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = resp.bytes().await.expect("body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    Answer {
        status,
        body,
        request_id,
    }
}

/// An unsigned request.
pub async fn plain(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    send(Prepared {
        method: method.into(),
        url: url.into(),
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect(),
        body: body.as_bytes().to_vec(),
    })
    .await
}

/// A service body for `POST .../vpc-endpoint-services`.
pub fn service_body(name: &str, approval: bool) -> Value {
    json!({"port_id": "port-1", "vpc_id": "vpc-1", "server_type": "LB", "service_name": name,
           "approval_enabled": approval, "ports": [{"client_port": 8080, "server_port": 80, "protocol": "TCP"}]})
}

/// An endpoint body for `POST .../vpc-endpoints`.
pub fn endpoint_body(service_id: &str) -> Value {
    json!({"endpoint_service_id": service_id, "vpc_id": "vpc-c", "subnet_id": "subnet-c",
           "tags": [{"key": "team", "value": "blue"}]})
}
