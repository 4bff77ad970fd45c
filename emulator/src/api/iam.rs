//! IAM's `POST /v3.0/OS-CREDENTIAL/securitytokens` (CreateTemporaryAccessKeyByAgency),
//! enough of it for a caller to assume an agency of another account: the
//! agency must exist in that account and trust the caller's account. The
//! answer (201) holds a temporary AK/SK and security token that then act
//! for that account until `expires_at`.
//!
//! Errors keep the emulator's `{"error_code", "error_msg"}` body with codes
//! of its own: 400 `IAM.0101` bad body, 404 `IAM.0102` no such account or
//! agency, 403 `IAM.0103` the agency does not trust the caller.

use axum::http::StatusCode;
use rand::Rng;
use serde::Deserialize;
use serde_json::json;

use super::wire::{parse_body, ApiError, Reply};
use super::Ctx;
use crate::state::{format_time, new_hex_id, State, Temporary};

/// The shortest and longest life the API allows (15 minutes to 24 hours).
const DURATIONS: std::ops::RangeInclusive<u64> = 900..=86_400;

#[derive(Deserialize)]
struct Body {
    auth: Auth,
}

#[derive(Deserialize)]
struct Auth {
    identity: Identity,
}

#[derive(Deserialize)]
struct Identity {
    methods: Vec<String>,
    assume_role: AssumeRole,
}

#[derive(Deserialize)]
struct AssumeRole {
    #[serde(default)]
    domain_id: Option<String>,
    #[serde(default)]
    domain_name: Option<String>,
    agency_name: String,
    #[serde(default)]
    duration_seconds: Option<u64>,
}

/// Assumes an agency: checks it, issues and registers temporary credentials.
pub(crate) fn security_token(state: &mut State, ctx: &Ctx) -> Result<Reply, ApiError> {
    let body: Body = parse_body(ctx.body)?;
    let identity = body.auth.identity;
    if !identity.methods.iter().any(|m| m == "assume_role") {
        return Err(ApiError::bad(
            "IAM.0101",
            "auth.identity.methods must be [\"assume_role\"]",
        ));
    }
    let role = identity.assume_role;
    let asked = role.duration_seconds.unwrap_or(900);
    if !DURATIONS.contains(&asked) {
        return Err(ApiError::bad(
            "IAM.0101",
            format!("duration_seconds must be from 900 to 86400, got {asked}"),
        ));
    }
    let owner = match (&role.domain_id, &role.domain_name) {
        (Some(id), _) => state.account_by_domain(id),
        (None, Some(name)) => state.accounts.iter().find(|a| &a.name == name),
        (None, None) => {
            return Err(ApiError::bad(
                "IAM.0101",
                "assume_role needs domain_id or domain_name",
            ))
        }
    };
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "IAM.0102",
            format!("The agency {:?} does not exist", role.agency_name),
        )
    };
    let owner = owner.ok_or_else(not_found)?;
    let agency = owner
        .agencies
        .iter()
        .find(|a| a.name == role.agency_name)
        .ok_or_else(not_found)?;
    if agency.trusted_domain_id != ctx.account.domain_id {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "IAM.0103",
            format!(
                "The agency {:?} does not trust the account of the caller",
                role.agency_name
            ),
        ));
    }
    let seconds = agency.duration_seconds.unwrap_or(asked);
    let owner_name = owner.name.clone();
    let mut rng = rand::thread_rng();
    let ak: String = (0..20)
        .map(|_| char::from(b'A' + rng.gen_range(0..26u8)))
        .collect();
    let temporary = Temporary {
        ak: format!("TMP{ak}"),
        sk: format!("{}{}", new_hex_id(&mut rng), new_hex_id(&mut rng)),
        security_token: format!(
            "sts-{}{}{}",
            new_hex_id(&mut rng),
            new_hex_id(&mut rng),
            new_hex_id(&mut rng)
        ),
        expires_at: ctx.now + time::Duration::seconds(i64::try_from(seconds).unwrap_or(900)),
    };
    let answer = json!({"credential": {
        "access": temporary.ak,
        "secret": temporary.sk,
        "securitytoken": temporary.security_token,
        "expires_at": format_time(temporary.expires_at),
    }});
    state
        .add_temporary(&owner_name, temporary)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "IAM.0104", e))?;
    Ok(Reply::created(answer))
}
