//! The typed VPCEP API client: models, signing and token auth, retries with
//! backoff, the concurrency limit, paging and one error type.
//!
//! ```no_run
//! # async fn run(settings: &vpcep_warden::config::Settings) -> Result<(), vpcep_warden::vpcep::ApiError> {
//! let client = vpcep_warden::vpcep::Client::from_settings(settings)?;
//! for service in client.list_services().await? {
//!     let pending = client.list_connections(&service.id, Some("pendingAcceptance"), None).await?;
//!     println!("{}: {} pending", service.service_name, pending.len());
//! }
//! # Ok(()) }
//! ```

mod agency;
mod auth;
pub mod check;
mod client;
mod descriptions;
mod error;
mod iam;
mod lenient;
mod models;
mod operations;
mod organizations;
mod paging;
mod retry;
mod token;
mod transport;
mod walk;

pub use agency::{TemporaryCredentials, AGENCY_DURATION_SECS, AGENCY_RENEW_BEFORE};
pub use check::{check, CheckError, CheckReport};
pub use client::{Client, ClientOptions};
pub use descriptions::{is_own_description, Described, MARK_PREFIX};
pub use error::{ApiError, ApiErrorKind, DEADLINE_REASON};
pub use iam::{iam_endpoint, DEFAULT_IAM_ENDPOINT};
pub use models::{
    parse_time, Connection, ConnectionAction, Endpoint, EndpointError, EndpointService, Permission,
    Port, Quota, Tag,
};
pub use organizations::ORGANIZATION_KEPT_FOR;
pub use retry::Backoff;
