//! Answers and errors on the wire: JSON replies, the documented error body
//! `{"error_code": "EndPoint.XXXX", "error_msg": "..."}`, request bodies read
//! leniently, and the string-or-number quirks.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

/// A successful answer.
#[derive(Debug)]
pub(crate) struct Reply {
    status: StatusCode,
    body: Body,
}

#[derive(Debug)]
enum Body {
    Empty,
    Value(Value),
    /// Already serialized JSON.
    Raw(Vec<u8>),
}

impl Reply {
    /// 200 with a JSON body.
    pub fn ok(body: Value) -> Self {
        Self {
            status: StatusCode::OK,
            body: Body::Value(body),
        }
    }

    /// 200 with an already serialized JSON body.
    pub fn raw(json: Vec<u8>) -> Self {
        Self {
            status: StatusCode::OK,
            body: Body::Raw(json),
        }
    }

    /// 201 with a JSON body (IAM's temporary credentials).
    pub fn created(body: Value) -> Self {
        Self {
            status: StatusCode::CREATED,
            body: Body::Value(body),
        }
    }

    /// 204 without a body (deletions).
    pub fn no_content() -> Self {
        Self {
            status: StatusCode::NO_CONTENT,
            body: Body::Empty,
        }
    }

    /// The response, with the quirky string variants when `quirks` is on.
    pub fn into_response(self, quirks: bool) -> Response {
        let body = match self.body {
            Body::Empty => return self.status.into_response(),
            Body::Raw(raw) if !quirks => {
                let json = [(header::CONTENT_TYPE, "application/json")];
                return (self.status, json, raw).into_response();
            }
            Body::Raw(raw) => serde_json::from_slice(&raw).unwrap_or(Value::Null),
            Body::Value(v) => v,
        };
        let mut body = body;
        if quirks {
            stringify_quirks(&mut body);
        }
        (self.status, Json(body)).into_response()
    }
}

/// The fields the API's own examples send sometimes as strings.
const QUIRK_FIELDS: [&str; 5] = [
    "marker_id",
    "client_port",
    "server_port",
    "is_charge",
    "enable_dns",
];

/// Turns numbers and booleans of [`QUIRK_FIELDS`] into strings, at any depth.
pub(crate) fn stringify_quirks(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if QUIRK_FIELDS.contains(&key.as_str()) && (v.is_number() || v.is_boolean()) {
                    *v = Value::String(v.to_string());
                } else {
                    stringify_quirks(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(stringify_quirks),
        _ => {}
    }
}

/// An error answer.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub msg: String,
    /// API Gateway's own errors also carry the request id in the body.
    pub request_id: Option<String>,
}

impl ApiError {
    /// An error with any status.
    pub fn new(status: StatusCode, code: &'static str, msg: impl Into<String>) -> Self {
        Self {
            status,
            code,
            msg: msg.into(),
            request_id: None,
        }
    }

    /// A 400 error.
    pub fn bad(code: &'static str, msg: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, msg)
    }

    /// 404 `EndPoint.0005` for a path the API does not have.
    pub fn no_route(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "EndPoint.0005",
            format!("The requested resource is unavailable: {method} {path}"),
        )
    }

    /// 401 `APIGW.0301`.
    pub fn unauthorized(detail: &str, request_id: &str) -> Self {
        Self {
            request_id: Some(request_id.to_owned()),
            ..Self::new(
                StatusCode::UNAUTHORIZED,
                "APIGW.0301",
                format!("Incorrect IAM authentication information: {detail}"),
            )
        }
    }

    /// 404 `EndPoint.2006` for an endpoint that does not exist (or is not the caller's).
    pub fn no_endpoint(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "EndPoint.2006",
            format!("The requested endpoint does not exist: {id}"),
        )
    }

    /// 400 `EndPoint.2003` for a service that does not exist (or is not the caller's).
    pub fn no_service(id: &str) -> Self {
        Self::bad(
            "EndPoint.2003",
            format!("The endpoint service does not exist: {id}"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({"error_code": self.code, "error_msg": self.msg});
        if let Some(id) = self.request_id {
            body["request_id"] = Value::String(id);
        }
        (self.status, Json(body)).into_response()
    }
}

/// Reads a JSON request body into `T`; unknown fields are ignored.
pub(crate) fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad(
            "EndPoint.1004",
            "Invalid request: the body is empty; a JSON object is expected",
        ));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad("EndPoint.1004", format!("Invalid request: {e}")))
}

/// A boolean sent as `true` or `"true"`.
pub(crate) fn lenient_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A port sent as `80` or `"80"`, within 1..=65535.
pub(crate) fn lenient_port(v: &Value) -> Option<u16> {
    let n = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }?;
    u16::try_from(n).ok().filter(|p| *p >= 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quirks_turn_documented_fields_into_strings_at_any_depth() {
        let mut v = json!({"marker_id": 5, "is_charge": false, "id": 7,
                           "ports": [{"client_port": 80, "server_port": 81}]});
        stringify_quirks(&mut v);
        assert_eq!(
            v,
            json!({"marker_id": "5", "is_charge": "false", "id": 7,
                   "ports": [{"client_port": "80", "server_port": "81"}]})
        );
    }

    #[test]
    fn lenient_values_take_both_forms() {
        assert_eq!(lenient_bool(&json!("true")), Some(true));
        assert_eq!(lenient_bool(&json!(false)), Some(false));
        assert_eq!(lenient_port(&json!("8080")), Some(8080));
        assert_eq!(lenient_port(&json!(0)), None);
        assert_eq!(lenient_port(&json!(70000)), None);
    }
}
