//! vpcep-warden keeps a Huawei Cloud VPC Endpoint (VPCEP) estate tidy.
//!
//! Three jobs, each a pure planner plus a small executor:
//! - **approve** accepts pending connections from allowlisted accounts;
//! - **quota** reads the VPCEP quotas and alerts when usage crosses a level;
//! - **gc** deletes our own endpoints stuck in `failed`, safely.
//!
//! Wire formats are decoded at the edge ([`events`]) into one [`events::Trigger`];
//! [`dispatch`] runs the jobs it names and returns one [`report::Report`].

pub mod alerts;
pub mod config;
pub mod dispatch;
pub mod events;
pub mod jobs;
pub mod logs;
pub mod organization;
pub mod report;
pub mod runtime;
pub mod state;
pub mod targets;
pub mod tls;
pub mod vpcep;
