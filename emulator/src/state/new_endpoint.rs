//! A new endpoint: what it is made of, and the VPC, subnet and address
//! generated for it.

use rand::rngs::StdRng;
use time::OffsetDateTime;

use super::{new_hex_id, new_uuid, Endpoint, EpStatus, State};

/// What a new endpoint is made of; the rest (VPC, subnet, address) is generated.
pub(crate) struct NewEndpoint {
    pub id: String,
    pub service_id: String,
    pub domain_id: String,
    /// The owner's project; `None` takes the project of the account with
    /// `domain_id`, or a generated one for a domain that is no account's.
    pub project_id: Option<String>,
    /// `None` takes the next marker.
    pub marker_id: Option<u64>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub status: EpStatus,
}

impl State {
    /// A new endpoint (not yet inserted) with a fresh VPC, subnet and address.
    pub(crate) fn new_endpoint(&mut self, rng: &mut StdRng, new: NewEndpoint) -> Endpoint {
        let marker_id = new.marker_id.unwrap_or_else(|| self.take_marker());
        let project_id = new.project_id.unwrap_or_else(|| {
            self.account_by_domain(&new.domain_id)
                .map_or_else(|| new_hex_id(rng), |a| a.project_id.clone())
        });
        Endpoint {
            id: new.id,
            service_id: new.service_id,
            domain_id: new.domain_id,
            project_id,
            vpc_id: new_uuid(rng),
            subnet_id: new_uuid(rng),
            ip: ip_for(marker_id),
            marker_id,
            created_at: new.created_at,
            updated_at: new.updated_at,
            status: new.status,
            ..Endpoint::default()
        }
    }
}

/// A private address derived from the marker id, so that it is stable.
pub(crate) fn ip_for(marker_id: u64) -> String {
    format!("192.168.{}.{}", (marker_id >> 8) & 0xff, marker_id & 0xff)
}
