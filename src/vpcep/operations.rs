//! The VPCEP API's operations on a [`Client`]: endpoint services, their
//! connections and whitelists, VPC endpoints, quotas; and signed calls to
//! other Huawei Cloud APIs.

use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};
use url::Url;

use super::error::{ApiError, ApiErrorKind};
use super::lenient;
use super::models::{Connection, ConnectionAction, Endpoint, EndpointService, Permission, Quota};
use super::Client;

impl Client {
    /// Every endpoint service of the project (all pages).
    pub async fn list_services(&self) -> Result<Vec<EndpointService>, ApiError> {
        self.collect(
            "list endpoint services",
            String::new(),
            &["vpc-endpoint-services"],
            &[],
            "endpoint_services",
        )
        .await
    }

    /// One endpoint service.
    pub async fn get_service(&self, service_id: &str) -> Result<EndpointService, ApiError> {
        let segments = ["vpc-endpoint-services", service_id];
        self.request(
            "get endpoint service",
            service_id,
            Method::GET,
            &segments,
            None,
        )
        .await
    }

    /// The connections of a service (all pages), optionally only those with
    /// `status` (e.g. `pendingAcceptance`) or of one endpoint (`endpoint_id`).
    pub async fn list_connections(
        &self,
        service_id: &str,
        status: Option<&str>,
        endpoint_id: Option<&str>,
    ) -> Result<Vec<Connection>, ApiError> {
        let filters: Vec<(&str, &str)> = [("status", status), ("id", endpoint_id)]
            .into_iter()
            .filter_map(|(k, v)| Some((k, v?)))
            .collect();
        self.collect(
            "list connections of service",
            service_id.to_owned(),
            &["vpc-endpoint-services", service_id, "connections"],
            &filters,
            "connections",
        )
        .await
    }

    /// Accepts or rejects one endpoint's connection to a service. Accepting an
    /// endpoint that is already connected (`EndPoint.2014`) is success.
    pub async fn connection_action(
        &self,
        service_id: &str,
        endpoint_id: &str,
        action: ConnectionAction,
    ) -> Result<(), ApiError> {
        let verb = match action {
            ConnectionAction::Receive => "accept endpoint",
            ConnectionAction::Reject => "reject endpoint",
        };
        let target = format!("{endpoint_id} on service {service_id}");
        let segments = ["vpc-endpoint-services", service_id, "connections", "action"];
        let body = json!({ "action": action.as_str(), "endpoints": [endpoint_id] });
        let result = self
            .request::<Value>(verb, &target, Method::POST, &segments, Some(&body))
            .await;
        match result {
            Err(e) if action == ConnectionAction::Receive && e.has_code("EndPoint.2014") => Ok(()),
            other => other.map(drop),
        }
    }

    /// The whitelist records of a service (all pages).
    pub async fn list_permissions(&self, service_id: &str) -> Result<Vec<Permission>, ApiError> {
        self.collect(
            "list whitelist records of service",
            service_id.to_owned(),
            &["vpc-endpoint-services", service_id, "permissions"],
            &[],
            "permissions",
        )
        .await
    }

    /// Every VPC endpoint of the project (all pages).
    pub async fn list_endpoints(&self) -> Result<Vec<Endpoint>, ApiError> {
        self.collect(
            "list endpoints",
            String::new(),
            &["vpc-endpoints"],
            &[],
            "endpoints",
        )
        .await
    }

    /// Every VPC endpoint of the project, handed to `f` one page at a time so
    /// the caller keeps only what it needs.
    pub async fn for_each_endpoint_page<F: FnMut(Vec<Endpoint>)>(
        &self,
        f: F,
    ) -> Result<(), ApiError> {
        self.for_each_page(
            "list endpoints",
            String::new(),
            &["vpc-endpoints"],
            &[],
            "endpoints",
            f,
        )
        .await
    }

    /// One VPC endpoint.
    pub async fn get_endpoint(&self, endpoint_id: &str) -> Result<Endpoint, ApiError> {
        let segments = ["vpc-endpoints", endpoint_id];
        self.request("get endpoint", endpoint_id, Method::GET, &segments, None)
            .await
    }

    /// Deletes a VPC endpoint. An endpoint that is gone or already being
    /// deleted (404, `EndPoint.2006`, `.2008`, `.2018`; see
    /// [`ApiError::is_not_found`]) counts as deleted.
    pub async fn delete_endpoint(&self, endpoint_id: &str) -> Result<(), ApiError> {
        let segments = ["vpc-endpoints", endpoint_id];
        let result = self
            .request::<Value>(
                "delete endpoint",
                endpoint_id,
                Method::DELETE,
                &segments,
                None,
            )
            .await;
        match result {
            Err(e) if e.is_not_found() || e.has_code("EndPoint.2018") => Ok(()),
            other => other.map(drop),
        }
    }

    /// The project's VPCEP quotas (`endpoint`, `endpoint_service`).
    pub async fn quotas(&self) -> Result<Vec<Quota>, ApiError> {
        #[derive(Deserialize)]
        struct Answer {
            quotas: Resources,
        }
        #[derive(Deserialize)]
        struct Resources {
            #[serde(default, deserialize_with = "lenient::one_or_many")]
            resources: Vec<Quota>,
        }
        let answer: Answer = self
            .request("read quotas", "", Method::GET, &["quotas"], None)
            .await?;
        Ok(answer.quotas.resources)
    }

    /// Calls another signed Huawei Cloud API (e.g. SMN publish) with the same
    /// authentication, retries, concurrency limit and error mapping. An empty
    /// answer reads as `null`.
    pub async fn send_json(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        let project_id = self.inner.project_id.clone();
        self.send_json_in(&project_id, method, url, body).await
    }

    /// [`Client::send_json`] for a service of another project (`X-Project-Id`),
    /// e.g. an SMN topic of another region.
    pub async fn send_json_in(
        &self,
        project_id: &str,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        let action = "call";
        let target = format!("{method} {}", url.split('?').next().unwrap_or(url));
        let parsed = Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
            .ok_or_else(|| {
                ApiError::new(
                    action,
                    target.clone(),
                    ApiErrorKind::Invalid {
                        detail: "not an http(s) URL".into(),
                    },
                )
            })?;
        let scope = super::auth::Scope::Project(project_id);
        let answer = self
            .call_scoped(action, &target, method, parsed, body, scope)
            .await?;
        self.decode(action, &target, &answer)
    }
}
