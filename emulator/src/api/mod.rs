//! The VPCEP v1 API (and the IAM and Organizations calls beside it): one
//! entry point that names the operation, counts it, applies the faults,
//! authenticates the caller, checks the project (or, for a global service,
//! the account) and hands the request to the operation's handler under the
//! state lock.

mod connections;
mod endpoints;
mod iam;
mod organizations;
mod paging;
mod services;
mod versions;
mod views;
pub(crate) mod wire;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use time::OffsetDateTime;

use crate::state::{self as model, Account};
use crate::{auth, faults, lock, Options, Shared};
use paging::Query;
use wire::{ApiError, Reply};

/// The largest request body read.
const MAX_BODY: usize = 8 * 1024 * 1024;

/// The id of the current request, also sent back as `X-Request-Id`.
#[derive(Debug, Clone)]
pub(crate) struct RequestId(pub String);

/// Gives every request an id and every answer (admin and errors included) its `X-Request-Id`.
pub(crate) async fn request_id(mut req: Request, next: Next) -> Response {
    let id = model::new_hex_id(&mut rand::rng());
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(req).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// The operations of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    ListVersions,
    ShowVersion,
    ListServices,
    CreateService,
    DescribeService,
    ListPublicServices,
    ShowService,
    UpdateService,
    DeleteService,
    ListConnections,
    ConnectionAction,
    UpdateConnectionsDesc,
    ListPermissions,
    PermissionAction,
    ListEndpoints,
    CreateEndpoint,
    ShowEndpoint,
    DeleteEndpoint,
    ListQuotas,
    CreateSecurityToken,
    ListAuthDomains,
    ShowOrganization,
    ListRoots,
    ListOrganizationalUnits,
    ListAccounts,
    ShowAccount,
    ListEntities,
    Unknown,
}

impl Op {
    /// Whether it is an operation of a global service (IAM, Organizations):
    /// no project in its path, the caller's account in `X-Domain-Id`.
    pub fn is_global(self) -> bool {
        matches!(
            self,
            Self::CreateSecurityToken
                | Self::ListAuthDomains
                | Self::ShowOrganization
                | Self::ListRoots
                | Self::ListOrganizationalUnits
                | Self::ListAccounts
                | Self::ShowAccount
                | Self::ListEntities
        )
    }

    /// The name used in the stats.
    pub fn name(self) -> &'static str {
        match self {
            Self::ListVersions => "list_versions",
            Self::ShowVersion => "show_version",
            Self::ListServices => "list_services",
            Self::CreateService => "create_service",
            Self::DescribeService => "describe_service",
            Self::ListPublicServices => "list_public_services",
            Self::ShowService => "show_service",
            Self::UpdateService => "update_service",
            Self::DeleteService => "delete_service",
            Self::ListConnections => "list_connections",
            Self::ConnectionAction => "connection_action",
            Self::UpdateConnectionsDesc => "update_connections_desc",
            Self::ListPermissions => "list_permissions",
            Self::PermissionAction => "permission_action",
            Self::ListEndpoints => "list_endpoints",
            Self::CreateEndpoint => "create_endpoint",
            Self::ShowEndpoint => "show_endpoint",
            Self::DeleteEndpoint => "delete_endpoint",
            Self::ListQuotas => "list_quotas",
            Self::CreateSecurityToken => "create_security_token",
            Self::ListAuthDomains => "list_auth_domains",
            Self::ShowOrganization => "show_organization",
            Self::ListRoots => "list_roots",
            Self::ListOrganizationalUnits => "list_organizational_units",
            Self::ListAccounts => "list_accounts",
            Self::ShowAccount => "show_account",
            Self::ListEntities => "list_entities",
            Self::Unknown => "unknown",
        }
    }
}

/// An operation with the path's project id and resource id (empty when the path has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    pub op: Op,
    pub project: String,
    pub id: String,
}

/// Names the operation of `method path`.
pub(crate) fn route(method: &Method, path: &str) -> Route {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (op, project, id) = match (method.as_str(), segs.as_slice()) {
        ("GET", []) => (Op::ListVersions, "", ""),
        ("GET", [v]) => (Op::ShowVersion, "", *v),
        ("GET", ["v1", p, "quotas"]) => (Op::ListQuotas, *p, ""),
        ("POST", ["v3.0", "OS-CREDENTIAL", "securitytokens"]) => (Op::CreateSecurityToken, "", ""),
        ("GET", ["v3", "auth", "domains"]) => (Op::ListAuthDomains, "", ""),
        ("GET", ["v1", "organizations"]) => (Op::ShowOrganization, "", ""),
        ("GET", ["v1", "organizations", "roots"]) => (Op::ListRoots, "", ""),
        ("GET", ["v1", "organizations", "organizational-units"]) => {
            (Op::ListOrganizationalUnits, "", "")
        }
        ("GET", ["v1", "organizations", "accounts"]) => (Op::ListAccounts, "", ""),
        ("GET", ["v1", "organizations", "accounts", id]) => (Op::ShowAccount, "", *id),
        ("GET", ["v1", "organizations", "entities"]) => (Op::ListEntities, "", ""),
        (m, ["v1", p, "vpc-endpoint-services", rest @ ..]) => {
            let (op, id) = service_route(m, rest);
            (op, *p, id)
        }
        ("GET", ["v1", p, "vpc-endpoints"]) => (Op::ListEndpoints, *p, ""),
        ("POST", ["v1", p, "vpc-endpoints"]) => (Op::CreateEndpoint, *p, ""),
        ("GET", ["v1", p, "vpc-endpoints", id]) => (Op::ShowEndpoint, *p, *id),
        ("DELETE", ["v1", p, "vpc-endpoints", id]) => (Op::DeleteEndpoint, *p, *id),
        _ => (Op::Unknown, "", ""),
    };
    Route {
        op,
        project: project.to_owned(),
        id: id.to_owned(),
    }
}

fn service_route<'a>(method: &str, rest: &[&'a str]) -> (Op, &'a str) {
    match (method, rest) {
        ("GET", []) => (Op::ListServices, ""),
        ("POST", []) => (Op::CreateService, ""),
        ("GET", ["describe"]) => (Op::DescribeService, ""),
        ("GET", ["public"]) => (Op::ListPublicServices, ""),
        ("GET", [id]) => (Op::ShowService, id),
        ("PUT", [id]) => (Op::UpdateService, id),
        ("DELETE", [id]) => (Op::DeleteService, id),
        ("GET", [id, "connections"]) => (Op::ListConnections, id),
        ("POST", [id, "connections", "action"]) => (Op::ConnectionAction, id),
        ("PUT", [id, "connections", "description"]) => (Op::UpdateConnectionsDesc, id),
        ("GET", [id, "permissions"]) => (Op::ListPermissions, id),
        ("POST", [id, "permissions", "action"]) => (Op::PermissionAction, id),
        _ => (Op::Unknown, ""),
    }
}

/// What a handler gets besides the state.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub account: &'a Account,
    pub query: &'a Query,
    pub body: &'a [u8],
    pub now: OffsetDateTime,
    pub transition: time::Duration,
}

/// Every request that no admin route took.
pub(crate) async fn entry(
    State(shared): State<Arc<Shared>>,
    Extension(RequestId(rid)): Extension<RequestId>,
    req: Request<Body>,
) -> Response {
    let (parts, body) = req.into_parts();
    if parts.uri.path().starts_with("/__admin") {
        // An admin path that no admin route took: never counted, never faulted.
        return ApiError::no_route(parts.method.as_str(), parts.uri.path()).into_response();
    }
    let route = route(&parts.method, parts.uri.path());
    lock(&shared.stats).count(route.op.name());
    let options = shared.options();
    if options.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(options.latency_ms)).await;
    }
    if let Err(e) = injected_fault(&shared, &options) {
        return e.into_response();
    }
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => {
            let msg = format!("Invalid request: the body could not be read ({e})");
            return ApiError::bad("EndPoint.1004", msg).into_response();
        }
    };
    let started = std::time::Instant::now();
    let mut response = match serve(&shared, &parts, &body, &route, &options, &rid) {
        Ok(reply) => reply.into_response(options.quirks),
        Err(e) => e.into_response(),
    };
    server_timing(&mut response, started.elapsed());
    response
}

/// `Server-Timing: app;dur=MS`: the time spent in the handler (auth, state,
/// serialization), without latency injection and network.
fn server_timing(response: &mut Response, spent: std::time::Duration) {
    let value = format!("app;dur={:.3}", spent.as_secs_f64() * 1e3);
    if let Ok(value) = HeaderValue::from_str(&value) {
        response.headers_mut().insert("server-timing", value);
    }
}

fn injected_fault(shared: &Shared, options: &Options) -> Result<(), ApiError> {
    if let Some(rate) = options.rate_limit {
        if !lock(&shared.bucket).take(rate, std::time::Instant::now()) {
            lock(&shared.stats).rate_limited += 1;
            return Err(ApiError::bad(
                "EndPoint.0022",
                "The number of requests exceeded the limit. Please try later.",
            ));
        }
    }
    if faults::roll(options.fault_rate) {
        lock(&shared.stats).faulted += 1;
        return Err(ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "EndPoint.0001",
            "System error. Please retry.",
        ));
    }
    Ok(())
}

fn serve(
    shared: &Shared,
    parts: &Parts,
    body: &[u8],
    route: &Route,
    options: &Options,
    rid: &str,
) -> Result<Reply, ApiError> {
    match route.op {
        Op::ListVersions => return Ok(versions::list(parts)),
        Op::ShowVersion => return versions::show(parts, &route.id),
        Op::Unknown => return Err(ApiError::no_route(parts.method.as_str(), parts.uri.path())),
        _ => {}
    }
    let now = OffsetDateTime::now_utc();
    let mut state = lock(&shared.state);
    state.settle(now);
    let account = auth::authenticate(&state, parts, body, now).map_err(|refusal| {
        lock(&shared.stats).unauthorized += 1;
        ApiError::unauthorized(&refusal.0, rid)
    })?;
    if route.op.is_global() {
        // IAM and Organizations are global: their paths name no project; their callers name their account.
        iam::check_scope(&account, parts, route.op)?;
    } else {
        let token = parts.headers.get("x-auth-token").map(|v| v.as_bytes());
        if token.is_some() && token == account.domain_token.as_deref().map(str::as_bytes) {
            return Err(ApiError::unauthorized(
                "the token is scoped to an account (domain), not to a project",
                rid,
            ));
        }
        check_project(&account, parts, &route.project)?;
    }
    let query = Query::parse(parts.uri.query().unwrap_or_default());
    let ctx = Ctx {
        account: &account,
        query: &query,
        body,
        now,
        transition: time::Duration::milliseconds(
            i64::try_from(options.transition_ms).unwrap_or(i64::MAX),
        ),
    };
    dispatch(&mut state, &ctx, route)
}

/// The caller's project must be the path's (and `X-Project-Id`'s, when sent).
fn check_project(account: &Account, parts: &Parts, project: &str) -> Result<(), ApiError> {
    let header = parts
        .headers
        .get("x-project-id")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    for (what, given) in [("path", Some(project.to_owned())), ("X-Project-Id", header)] {
        if let Some(given) = given.filter(|g| g != &account.project_id) {
            return Err(ApiError::bad(
                "EndPoint.0014",
                format!("Invalid project ID: the {what} names project {given:?}, but the credentials belong to another project"),
            ));
        }
    }
    Ok(())
}

fn dispatch(state: &mut model::State, ctx: &Ctx, route: &Route) -> Result<Reply, ApiError> {
    let id = route.id.as_str();
    match route.op {
        Op::ListServices => services::list(state, ctx),
        Op::CreateService => services::create(state, ctx),
        Op::DescribeService => services::describe(state, ctx),
        Op::ListPublicServices => services::list_public(state, ctx),
        Op::ShowService => services::show(state, ctx, id),
        Op::UpdateService => services::update(state, ctx, id),
        Op::DeleteService => services::delete(state, ctx, id),
        Op::ListConnections => connections::list(state, ctx, id),
        Op::ConnectionAction => connections::action(state, ctx, id),
        Op::UpdateConnectionsDesc => connections::update_descriptions(state, ctx, id),
        Op::ListPermissions => connections::list_permissions(state, ctx, id),
        Op::PermissionAction => connections::permission_action(state, ctx, id),
        Op::ListEndpoints => endpoints::list(state, ctx),
        Op::CreateEndpoint => endpoints::create(state, ctx),
        Op::ShowEndpoint => endpoints::show(state, ctx, id),
        Op::DeleteEndpoint => endpoints::delete(state, ctx, id),
        Op::ListQuotas => endpoints::quotas(state, ctx),
        Op::CreateSecurityToken => iam::security_token(state, ctx),
        Op::ListAuthDomains => Ok(iam::domains(ctx)),
        Op::ShowOrganization => organizations::show(state, ctx),
        Op::ListRoots => organizations::roots(state, ctx),
        Op::ListOrganizationalUnits => organizations::units(state, ctx),
        Op::ListAccounts => organizations::accounts(state, ctx),
        Op::ShowAccount => organizations::account(state, ctx, id),
        Op::ListEntities => organizations::entities(state, ctx),
        // Answered by `serve` before authentication; never dispatched.
        Op::ListVersions | Op::ShowVersion | Op::Unknown => Err(ApiError::no_route("", "")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_iam_security_token_path_names_no_project() {
        let r = route(&Method::POST, "/v3.0/OS-CREDENTIAL/securitytokens");
        assert_eq!((r.op, r.project.as_str()), (Op::CreateSecurityToken, ""));
        assert_eq!(
            route(&Method::GET, "/v3.0/OS-CREDENTIAL/securitytokens").op,
            Op::Unknown
        );
    }

    #[test]
    fn organizations_paths_name_no_project() {
        for (path, op) in [
            ("/v1/organizations", Op::ShowOrganization),
            ("/v1/organizations/roots", Op::ListRoots),
            (
                "/v1/organizations/organizational-units",
                Op::ListOrganizationalUnits,
            ),
            ("/v1/organizations/accounts", Op::ListAccounts),
            ("/v1/organizations/entities", Op::ListEntities),
        ] {
            let r = route(&Method::GET, path);
            assert_eq!((r.op, r.project.as_str()), (op, ""), "{path}");
            assert!(op.is_global());
        }
        let r = route(&Method::GET, "/v1/organizations/accounts/a1");
        assert_eq!((r.op, r.id.as_str()), (Op::ShowAccount, "a1"));
        // A project that happens to be called so still reaches VPCEP.
        assert_eq!(
            route(&Method::GET, "/v1/organizations/quotas").op,
            Op::ListQuotas
        );
    }

    #[test]
    fn paths_name_their_operations() {
        let r = route(&Method::GET, "/v1/p1/vpc-endpoint-services/s1/connections");
        assert_eq!(
            (r.op, r.project.as_str(), r.id.as_str()),
            (Op::ListConnections, "p1", "s1")
        );
        let r = route(
            &Method::POST,
            "/v1/p1/vpc-endpoint-services/s1/connections/action",
        );
        assert_eq!(r.op, Op::ConnectionAction);
        let r = route(
            &Method::PUT,
            "/v1/p1/vpc-endpoint-services/s1/connections/description",
        );
        assert_eq!((r.op, r.id.as_str()), (Op::UpdateConnectionsDesc, "s1"));
        assert_eq!(
            route(&Method::GET, "/v1/p/vpc-endpoint-services/describe").op,
            Op::DescribeService
        );
        assert_eq!(
            route(&Method::DELETE, "/v1/p/vpc-endpoints/e1").op,
            Op::DeleteEndpoint
        );
        assert_eq!(route(&Method::GET, "/").op, Op::ListVersions);
        assert_eq!(route(&Method::GET, "/v1").op, Op::ShowVersion);
        assert_eq!(
            route(&Method::PATCH, "/v1/p/vpc-endpoints/e1").op,
            Op::Unknown
        );
        assert_eq!(route(&Method::GET, "/v2/p/else").op, Op::Unknown);
    }
}
