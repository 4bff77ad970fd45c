//! The server's side: reading an `Authorization` header and checking a
//! signed request against a key, in constant time.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use time::OffsetDateTime;

use super::{canonical_request, parse_date, string_to_sign, Error, Request, SigningKey, ALGORITHM};

/// A parsed `Authorization: SDK-HMAC-SHA256 ...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The access key that claims to have signed.
    pub access_key: String,
    /// Lower-case header names, in the order given.
    pub signed_headers: Vec<String>,
    /// The hex signature.
    pub signature: String,
}

impl Authorization {
    /// Parses the header value.
    pub fn parse(value: &str) -> Result<Self, Error> {
        let rest = value
            .strip_prefix(ALGORITHM)
            .ok_or(Error::BadAuthorization)?
            .trim();
        let (mut access, mut headers, mut signature) = (None, None, None);
        for part in rest.split(',') {
            let (k, v) = part.trim().split_once('=').ok_or(Error::BadAuthorization)?;
            match k {
                "Access" => access = Some(v.to_owned()),
                "SignedHeaders" => {
                    headers = Some(v.split(';').map(str::to_ascii_lowercase).collect())
                }
                "Signature" => signature = Some(v.to_owned()),
                _ => return Err(Error::BadAuthorization),
            }
        }
        match (access, headers, signature) {
            (Some(access_key), Some(signed_headers), Some(signature))
                if !access_key.is_empty() && !signature.is_empty() =>
            {
                Ok(Self {
                    access_key,
                    signed_headers,
                    signature,
                })
            }
            _ => Err(Error::BadAuthorization),
        }
    }
}

/// Why [`verify`] refused a request.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The request could not be read as a signed request.
    #[error(transparent)]
    Malformed(#[from] Error),
    /// The signing time is further from now than the allowed skew.
    #[error("request time {date} is outside the allowed clock skew")]
    Skew {
        /// The `X-Sdk-Date` the request carried.
        date: String,
        /// The canonical request the server computed.
        canonical_request: String,
    },
    /// The signature does not match.
    #[error("signature does not match")]
    Mismatch {
        /// The canonical request the server computed.
        canonical_request: String,
    },
}

/// Checks a signed request against `key`: the signature over the headers it names,
/// and a signing time within `max_skew` of `now`. The comparison is constant-time.
pub fn verify(
    request: &Request,
    authorization: &Authorization,
    key: &SigningKey,
    now: OffsetDateTime,
    max_skew: time::Duration,
) -> Result<(), VerifyError> {
    let date = request
        .find_header("x-sdk-date")
        .ok_or(Error::BadDate)?
        .to_owned();
    let at = parse_date(&date)?;
    if !authorization
        .signed_headers
        .iter()
        .any(|h| h == "x-sdk-date")
    {
        return Err(Error::MissingSignedHeader("x-sdk-date".into()).into());
    }
    let canonical = canonical_request(request, &authorization.signed_headers)?;
    if (now - at).abs() > max_skew {
        return Err(VerifyError::Skew {
            date,
            canonical_request: canonical,
        });
    }
    let given = hex::decode(&authorization.signature).unwrap_or_default();
    let mut mac = Hmac::<Sha256>::new_from_slice(key.secret_key.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(string_to_sign(&canonical, &date).as_bytes());
    // `verify_slice` compares in constant time.
    mac.verify_slice(&given).map_err(|_| VerifyError::Mismatch {
        canonical_request: canonical,
    })
}
