//! Reading what an S3 API answered: the document and its ETag, or what
//! went wrong, in words that never hold the signed URL.

use reqwest::Response;

use crate::state::backend::{Version, MAX_DOC_BYTES};

/// The most of an S3 error answer read for its code and message.
const MAX_ERROR_BYTES: usize = 16 * 1024;

/// What a transport error says, without its URL (a presigned URL holds the
/// signature and the session token).
pub(super) fn transport(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let e = e.without_url();
    let mut text = format!("{kind}: {e}");
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        text.push_str(&format!(": {c}"));
        cause = c.source();
    }
    text
}

/// What an unexpected answer says: its status, and the `<Code>` and
/// `<Message>` of an S3 error document (never the rest, which may echo the
/// request that was signed).
pub(super) async fn answer(response: Response) -> String {
    let status = response.status();
    let mut body = Vec::new();
    let mut response = response;
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() >= MAX_ERROR_BYTES {
            break;
        }
    }
    let body = String::from_utf8_lossy(&body);
    let element = |name: &str| {
        let start = body.find(&format!("<{name}>"))? + name.len() + 2;
        let end = body[start..].find(&format!("</{name}>"))? + start;
        Some(body[start..end].trim().to_owned())
    };
    match (element("Code"), element("Message")) {
        (Some(code), Some(message)) => format!("HTTP {status}: {code}: {message}"),
        (Some(code), None) => format!("HTTP {status}: {code}"),
        _ => format!("HTTP {status}"),
    }
}

/// The ETag of an answer, which the next conditional write names.
pub(super) fn version(response: &Response) -> Result<Version, String> {
    response
        .headers()
        .get(reqwest::header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(|v| Version(v.to_owned()))
        .ok_or_else(|| "the store answered without an ETag, which conditional writes need".into())
}

/// The body of a document, refused past [`MAX_DOC_BYTES`] without reading it whole.
pub(super) async fn document(mut response: Response) -> Result<Vec<u8>, String> {
    let too_large =
        || format!("the object is larger than {MAX_DOC_BYTES} bytes: not a state document");
    let length = response.content_length().unwrap_or(0);
    if length > MAX_DOC_BYTES {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(length as usize);
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        if (bytes.len() + chunk.len()) as u64 > MAX_DOC_BYTES {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}
