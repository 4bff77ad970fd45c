//! Admin routes on the API's port, without authentication and never faulted:
//! `GET /__admin/state`, `GET /__admin/stats`, `POST /__admin/stats/reset`,
//! `POST /__admin/scenario` (replace the estate), `GET|POST /__admin/faults`
//! (a partial [`Options`] object; `"rate_limit": null` turns the limit off),
//! `POST /__admin/credentials` (give an account a temporary credential).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::wire::ApiError;
use crate::{lock, Options, Scenario, Shared, Stats, TemporarySpec};

/// The admin router.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/__admin/state", get(state))
        .route("/__admin/stats", get(stats))
        .route("/__admin/stats/reset", post(reset_stats))
        .route("/__admin/scenario", post(load_scenario))
        .route("/__admin/faults", get(faults).post(set_faults))
        .route("/__admin/credentials", post(add_credential))
}

async fn state(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(shared.admin_state())
}

async fn stats(State(shared): State<Arc<Shared>>) -> Json<Stats> {
    Json(lock(&shared.stats).clone())
}

async fn reset_stats(State(shared): State<Arc<Shared>>) -> Json<Stats> {
    *lock(&shared.stats) = Stats::default();
    Json(Stats::default())
}

async fn load_scenario(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let text = String::from_utf8_lossy(&body);
    let loaded = Scenario::from_json(&text).and_then(|s| shared.load(&s));
    match loaded {
        Ok(()) => {
            let state = shared.admin_state();
            let count = |k: &str| state[k].as_array().map_or(0, Vec::len);
            Json(json!({"loaded": true, "accounts": count("accounts"),
                        "services": count("services"), "endpoints": count("endpoints")}))
            .into_response()
        }
        Err(e) => ApiError::bad("EndPoint.1004", e.to_string()).into_response(),
    }
}

/// The body of `POST /__admin/credentials`: the account's `name` and the credential.
#[derive(Deserialize)]
struct NewCredential {
    account: String,
    #[serde(flatten)]
    credential: TemporarySpec,
}

async fn add_credential(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let new: NewCredential = match serde_json::from_slice(&body) {
        Ok(new) => new,
        Err(e) => {
            return ApiError::bad(
                "EndPoint.1004",
                format!(
                    "Invalid request: {e}; expected account, ak, sk, security_token, expires_at"
                ),
            )
            .into_response()
        }
    };
    match shared.add_temporary(&new.account, &new.credential) {
        Ok(()) => Json(json!({"account": new.account, "ak": new.credential.ak,
                              "expires_at": new.credential.expires_at}))
        .into_response(),
        Err(e) => ApiError::bad("EndPoint.0002", e.to_string()).into_response(),
    }
}

async fn faults(State(shared): State<Arc<Shared>>) -> Json<Options> {
    Json(shared.options())
}

async fn set_faults(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match merged_options(&shared.options(), &body).and_then(|o| {
        shared
            .set_options(o.clone())
            .map(|()| o)
            .map_err(|e| ApiError::bad("EndPoint.0002", e.to_string()))
    }) {
        Ok(options) => Json(options).into_response(),
        Err(e) => e.into_response(),
    }
}

/// The current options with the fields of the JSON object `patch` replaced.
fn merged_options(current: &Options, patch: &[u8]) -> Result<Options, ApiError> {
    let invalid = |msg: String| ApiError::bad("EndPoint.1004", msg);
    let patch: Value =
        serde_json::from_slice(patch).map_err(|e| invalid(format!("Invalid request: {e}")))?;
    let Value::Object(patch) = patch else {
        return Err(invalid(
            "Invalid request: expected a JSON object such as {\"fault_rate\": 0.1}".into(),
        ));
    };
    let mut merged = serde_json::to_value(current).map_err(|e| invalid(e.to_string()))?;
    if let Value::Object(fields) = &mut merged {
        fields.extend(patch);
    }
    serde_json::from_value(merged).map_err(|e| {
        invalid(format!(
            "Invalid request: {e}; expected latency_ms, fault_rate, rate_limit, transition_ms, quirks"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_patch_keeps_the_other_options() {
        let current = Options {
            latency_ms: 5,
            rate_limit: Some(2.0),
            ..Options::default()
        };
        let merged =
            merged_options(&current, br#"{"fault_rate": 0.5, "rate_limit": null}"#).unwrap();
        assert_eq!(merged.latency_ms, 5);
        assert_eq!(merged.fault_rate, 0.5);
        assert_eq!(merged.rate_limit, None);
        assert!(merged_options(&current, br#"{"latency": 1}"#).is_err());
        assert!(merged_options(&current, b"[1]").is_err());
        assert!(merged_options(&current, b"{").is_err());
    }
}
