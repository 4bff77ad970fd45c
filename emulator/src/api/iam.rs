//! IAM, as much as the warden and the official SDKs call:
//! `POST /v3.0/OS-CREDENTIAL/securitytokens` (CreateTemporaryAccessKeyByAgency),
//! enough of it for a caller to assume an agency of another account (the
//! agency must exist in that account and trust the caller's account; the
//! answer, 201, holds a temporary AK/SK and security token that then act for
//! that account until `expires_at`), and `GET /v3/auth/domains`
//! (KeystoneListAuthDomains), where an SDK finds the account of its keys.
//!
//! IAM is a global service, and as strict as IAM about it: an AK/SK call
//! must sign `X-Domain-Id` naming the caller's account (`X-Project-Id` does
//! not stand in for it), except `GET /v3/auth/domains`, which the SDKs make
//! to learn that id; a token must be scoped to the account (`domain_token`),
//! not to a project, to assume an agency.
//!
//! Errors use the codes and messages of IAM's error code table, in the
//! `{"error_code", "error_msg"}` body: 401 `IAM.0001` the request needs
//! authentication, 403 `IAM.0002` not authorized, 404 `IAM.0004` not found,
//! 500 `IAM.0006` unexpected error, 400 `IAM.0011` request body invalid.

use axum::http::request::Parts;
use axum::http::StatusCode;
use rand::RngExt;
use serde::Deserialize;
use serde_json::json;

use super::wire::{parse_body, ApiError, Reply};
use super::{Ctx, Op};
use crate::state::{format_time, new_hex_id, Account, State, Temporary};

/// 401 `IAM.0001`, with what was wrong.
fn unauthenticated(detail: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "IAM.0001",
        format!("The request you have made requires authentication: {detail}"),
    )
}

/// 403 `IAM.0002`, with what was wrong.
fn not_authorized(detail: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "IAM.0002",
        format!("You are not authorized to perform the requested action: {detail}"),
    )
}

/// 400 `IAM.0011`, with what was wrong.
fn invalid_body(detail: impl std::fmt::Display) -> ApiError {
    ApiError::bad("IAM.0011", format!("Request body is invalid: {detail}"))
}

/// Refuses an authenticated `account`'s call to IAM operation `op` that
/// names no account, or another, or uses a project-scoped token to assume
/// an agency.
pub(crate) fn check_scope(account: &Account, parts: &Parts, op: Op) -> Result<(), ApiError> {
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    if let Some(token) = header("x-auth-token") {
        let domain_scoped = account.domain_token.as_deref() == Some(token.as_str());
        if op == Op::CreateSecurityToken && !domain_scoped {
            return Err(not_authorized(
                "the token is scoped to a project; assuming an agency needs a token scoped to the account (domain) with the Agent Operator role",
            ));
        }
        return Ok(());
    }
    if op == Op::ListAuthDomains {
        return Ok(());
    }
    let signed = header("authorization")
        .and_then(|a| hwcloud_sign::Authorization::parse(&a).ok())
        .is_some_and(|a| a.signed_headers.iter().any(|h| h == "x-domain-id"));
    match header("x-domain-id") {
        Some(id) if !signed => Err(unauthenticated(&format!(
            "X-Domain-Id {id:?} is not among the signed headers"
        ))),
        Some(id) if id != account.domain_id => Err(unauthenticated(&format!(
            "X-Domain-Id {id:?} is not the account of the access key"
        ))),
        Some(_) => Ok(()),
        None if header("x-project-id").is_some() => Err(unauthenticated(
            "IAM is a global service: sign X-Domain-Id (the account id), not X-Project-Id",
        )),
        None => Err(unauthenticated(
            "IAM is a global service: sign X-Domain-Id (the account id)",
        )),
    }
}

/// `GET /v3/auth/domains`: the caller's account.
pub(crate) fn domains(ctx: &Ctx) -> Reply {
    let account = ctx.account;
    Reply::ok(json!({
        "domains": [{
            "id": account.domain_id,
            "name": account.name,
            "enabled": true,
            "description": "",
            "links": {"self": format!("https://iam.myhuaweicloud.com/v3/domains/{}", account.domain_id)},
        }],
        "links": {"self": "https://iam.myhuaweicloud.com/v3/auth/domains"},
    }))
}

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
    let body: Body = parse_body(ctx.body).map_err(|e| invalid_body(e.msg))?;
    let identity = body.auth.identity;
    if !identity.methods.iter().any(|m| m == "assume_role") {
        return Err(invalid_body(
            "auth.identity.methods must be [\"assume_role\"]",
        ));
    }
    let role = identity.assume_role;
    let asked = role.duration_seconds.unwrap_or(900);
    if !DURATIONS.contains(&asked) {
        return Err(invalid_body(format!(
            "duration_seconds must be from 900 to 86400, got {asked}"
        )));
    }
    let owner = match (&role.domain_id, &role.domain_name) {
        (Some(id), _) => state.account_by_domain(id),
        (None, Some(name)) => state.accounts.iter().find(|a| &a.name == name),
        (None, None) => return Err(invalid_body("assume_role needs domain_id or domain_name")),
    };
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "IAM.0004",
            format!("Could not find agency: {}.", role.agency_name),
        )
    };
    let owner = owner.ok_or_else(not_found)?;
    let agency = owner
        .agencies
        .iter()
        .find(|a| a.name == role.agency_name)
        .ok_or_else(not_found)?;
    if agency.trusted_domain_id != ctx.account.domain_id {
        return Err(not_authorized(&format!(
            "the agency {:?} does not trust the account of the caller",
            role.agency_name
        )));
    }
    let seconds = agency.duration_seconds.unwrap_or(asked);
    let owner_name = owner.name.clone();
    let mut rng = rand::rng();
    let ak: String = (0..20)
        .map(|_| char::from(b'A' + rng.random_range(0..26u8)))
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
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "IAM.0006", e))?;
    Ok(Reply::created(answer))
}
