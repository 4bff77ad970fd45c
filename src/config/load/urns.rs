//! Settings that name a cloud resource by its URN: checked part by part.

use crate::config::values::{http_url, is_plain_id, text};
use crate::config::{ConfigError, FanOut};

/// `urn:smn:REGION:PROJECT:NAME`, as the SMN console shows a topic's URN.
pub(super) fn smn_topic_urn(urn: &str) -> Result<(), ConfigError> {
    let parts: Vec<&str> = urn.split(':').collect();
    let ok = match parts.as_slice() {
        ["urn", "smn", region, project, name] => {
            !region.is_empty()
                && region
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-')
                && is_plain_id(project)
                && name.len() <= 255
                && is_plain_id(name)
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ConfigError::new(
            "WARDEN_SMN_TOPIC_URN",
            format!("WARDEN_SMN_TOPIC_URN must be a topic URN urn:smn:REGION:PROJECT:NAME such as urn:smn:cn-north-4:0605767b5d00d3b22f5cc0137f2fa7e2:vpcep-alerts, got {urn:?}"),
        ))
    }
}

/// `WARDEN_FUNCTION_URN` (`urn:fss:REGION:PROJECT:function:APP:NAME:VERSION`):
/// the function a fan-out tick invokes once per target, at
/// `WARDEN_FUNCTIONGRAPH_ENDPOINT` or `https://functiongraph.{REGION}.myhuaweicloud.com`.
pub(super) fn fan_out(
    urn: Option<String>,
    endpoint: Option<String>,
) -> Result<Option<FanOut>, ConfigError> {
    let Some(urn) = text(urn) else {
        return match text(endpoint) {
            Some(_) => Err(ConfigError::new(
                "WARDEN_FUNCTIONGRAPH_ENDPOINT",
                "WARDEN_FUNCTIONGRAPH_ENDPOINT is set without WARDEN_FUNCTION_URN: set the URN of the function a fan-out tick invokes, or unset it",
            )),
            None => Ok(None),
        };
    };
    let parts: Vec<&str> = urn.split(':').collect();
    let ok = matches!(parts.as_slice(), ["urn", "fss", region, project, "function", app, name, version]
        if [region, project, app, name, version].iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '!'))));
    if !ok {
        return Err(ConfigError::new(
            "WARDEN_FUNCTION_URN",
            format!("WARDEN_FUNCTION_URN must be a function URN urn:fss:REGION:PROJECT:function:APP:NAME:VERSION such as urn:fss:cn-north-4:0605767b5d00d3b22f5cc0137f2fa7e2:function:default:vpcep-warden:latest, got {urn:?}"),
        ));
    }
    let endpoint = match text(endpoint) {
        Some(url) => http_url("WARDEN_FUNCTIONGRAPH_ENDPOINT", &url)?,
        None => format!("https://functiongraph.{}.myhuaweicloud.com", parts[2]),
    };
    Ok(Some(FanOut {
        project_id: parts[3].to_owned(),
        function_urn: urn,
        endpoint,
    }))
}
