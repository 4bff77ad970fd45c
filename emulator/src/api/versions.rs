//! `GET /` and `GET /{version}`: the API versions (no authentication, as the real API).

use axum::http::request::Parts;
use axum::http::StatusCode;
use serde_json::{json, Value};

use super::wire::{ApiError, Reply};

fn version(parts: &Parts, id: &str) -> Option<Value> {
    let (updated, status) = match id {
        "v1" => ("2018-09-30T00:00:00Z", "CURRENT"),
        "v2" => ("2020-03-30T00:00:00Z", "CURRENT"),
        _ => return None,
    };
    let host = parts
        .headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    Some(json!({
        "id": id, "status": status, "updated": updated, "version": &id[1..], "min_version": "",
        "links": [{"rel": "self", "href": format!("http://{host}/{id}"), "type": "application/json"}]
    }))
}

/// All versions.
pub(super) fn list(parts: &Parts) -> Reply {
    let versions: Vec<Value> = ["v1", "v2"]
        .iter()
        .filter_map(|v| version(parts, v))
        .collect();
    Reply::ok(json!({ "versions": versions }))
}

/// One version.
pub(super) fn show(parts: &Parts, id: &str) -> Result<Reply, ApiError> {
    version(parts, id)
        .map(|v| Reply::ok(json!({ "version": v })))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "EndPoint.0005",
                format!("The requested resource is unavailable: version {id:?}"),
            )
        })
}
