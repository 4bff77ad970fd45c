//! Who is calling: an SDK-HMAC-SHA256 signature checked with [`hwcloud_sign::verify`]
//! against the account of its access key, or an `X-Auth-Token` equal to an
//! account's token.
//!
//! A temporary access key also needs its security token: a signed
//! `X-Security-Token` header with exactly that value, before `expires_at`.
//!
//! A refusal carries the canonical request the server computed (as API
//! Gateway's `APIGW.0301` does), with the values of `x-security-token` and
//! `x-auth-token` masked so that no credential is echoed.

use axum::http::request::Parts;
use hwcloud_sign::{Authorization, Request, SigningKey, VerifyError};
use time::OffsetDateTime;

use crate::state::{format_time, Account, State, Temporary};

/// The clock skew allowed between `X-Sdk-Date` and the server's time.
pub(crate) const MAX_SKEW: time::Duration = time::Duration::minutes(15);

/// Why a request was not authenticated (the text after "Incorrect IAM authentication information: ").
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal(pub String);

/// The account that made the request.
pub(crate) fn authenticate(
    state: &State,
    parts: &Parts,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<Account, Refusal> {
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    if let Some(value) = header("authorization") {
        return by_signature(state, &signed_request(parts, body), &value, now);
    }
    if let Some(token) = header("x-auth-token") {
        return state
            .account_by_token(&token)
            .cloned()
            .ok_or_else(|| Refusal("the X-Auth-Token is not valid".into()));
    }
    Err(Refusal(
        "the request has neither an SDK-HMAC-SHA256 Authorization header nor an X-Auth-Token"
            .into(),
    ))
}

fn signed_request(parts: &Parts, body: &[u8]) -> Request {
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let host = parts
        .headers
        .get("host")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    Request {
        method: parts.method.as_str().to_owned(),
        host,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers,
        body: body.to_vec(),
    }
}

fn by_signature(
    state: &State,
    request: &Request,
    value: &str,
    now: OffsetDateTime,
) -> Result<Account, Refusal> {
    let auth = Authorization::parse(value).map_err(|e| Refusal(e.to_string()))?;
    let has_token = request
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("x-security-token"));
    if has_token && !auth.signed_headers.iter().any(|h| h == "x-security-token") {
        return Err(Refusal("the X-Security-Token header is not signed".into()));
    }
    let Some((account, temporary)) = state.credential(&auth.access_key) else {
        let canonical = hwcloud_sign::canonical_request(request, &auth.signed_headers)
            .map(|c| mask(&c))
            .unwrap_or_else(|e| e.to_string());
        return Err(Refusal(format!(
            "the access key {} is not known, canonical request: {canonical}",
            auth.access_key
        )));
    };
    let sk = temporary.map_or(&account.sk, |t| &t.sk);
    let key = SigningKey::new(auth.access_key.clone(), sk.clone());
    match hwcloud_sign::verify(request, &auth, &key, now, MAX_SKEW) {
        Ok(()) => {}
        Err(VerifyError::Malformed(e)) => return Err(Refusal(e.to_string())),
        Err(VerifyError::Skew {
            date,
            canonical_request,
        }) => return Err(Refusal(format!(
            "X-Sdk-Date {date} is more than 15 minutes away from the server time, canonical request: {}",
            mask(&canonical_request)
        ))),
        Err(VerifyError::Mismatch { canonical_request }) => return Err(Refusal(format!(
            "verify aksk signature fail, canonical request: {}",
            mask(&canonical_request)
        ))),
    }
    if let Some(temporary) = temporary {
        check_security_token(request, temporary, now)?;
    }
    Ok(account.clone())
}

/// A request signed with a temporary access key carries its security token
/// (signed: [`by_signature`] has checked that) and comes before it expires.
fn check_security_token(
    request: &Request,
    temporary: &Temporary,
    now: OffsetDateTime,
) -> Result<(), Refusal> {
    let sent = request
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("x-security-token"))
        .map(|(_, v)| v.as_str());
    match sent {
        None => Err(Refusal(format!(
            "x-security-token not found, the access key {} is temporary",
            temporary.ak
        ))),
        Some(token) if !same(token, &temporary.security_token) => Err(Refusal(format!(
            "the X-Security-Token does not belong to the access key {}",
            temporary.ak
        ))),
        Some(_) if now >= temporary.expires_at => Err(Refusal(format!(
            "token expires, expires_at: {}",
            format_time(temporary.expires_at)
        ))),
        Some(_) => Ok(()),
    }
}

/// Compares two secrets without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The canonical request with the values of credential headers replaced by `******`.
pub(crate) fn mask(canonical: &str) -> String {
    canonical
        .split('\n')
        .map(|line| {
            for name in ["x-security-token:", "x-auth-token:"] {
                if line.starts_with(name) {
                    return format!("{name}******");
                }
            }
            line.to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_hides_token_values_only() {
        let c = "GET\n/v1/p/\n\nhost:h\nx-security-token:secret\nx-sdk-date:d\n\nhost;x-security-token;x-sdk-date\nabc";
        let m = mask(c);
        assert!(!m.contains("secret"));
        assert!(m.contains("x-security-token:******"));
        assert!(m.contains("host:h"));
        assert_eq!(m.lines().count(), c.lines().count());
    }
}
