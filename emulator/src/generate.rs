//! Generated estates for benchmarks, reproducible from a seed.
//!
//! The exact rule for `{"seed": S, "services": N, "connections_per_service": C,
//! "pending_ratio": P, "allowed_domains": [A...], "endpoints": E, "failed_ratio": F}`
//! (ids, domains and statuses come from `StdRng::seed_from_u64(S)`, so the same
//! seed gives the same estate; times are relative to the load time `now`):
//!
//! - **Services**: `N` services owned by the first account, named `gen-00000`,
//!   `gen-00001`, ..., `approval_enabled: true`, status `available`, no
//!   whitelist records, service `i` created at `now - 30 days + i s`.
//! - **Connections**: each service gets `C` connections; connection `j` is
//!   created (and updated) at `now - A + j ms`, where `A` is
//!   `connection_age_minutes` (default 7 days; `j ms` at most `A / 2`). The first
//!   `p = round(C * P)` of them (`j < p`) are `pendingAcceptance`; the rest are
//!   `accepted`, each from a fresh random (unknown) domain.
//!   Among the pending ones, those with an even `j` come from `allowed_domains`
//!   taken round-robin by a counter that runs across all services (so per
//!   service `ceil(p / 2)` allowed and `floor(p / 2)` unknown); those with an
//!   odd `j` come from a fresh random (unknown) domain. With no
//!   `allowed_domains`, every pending connection comes from an unknown domain.
//!   A connection whose domain is an account's belongs to that account.
//! - **Endpoints**: `E` endpoints owned by the first account, all connected to
//!   one generated public service `gen-public` (owned by no account, no
//!   approval), so they do not change the generated services' connection
//!   counts. Endpoint `k` is created at `now - 3 days + k ms`. The first
//!   `f = round(E * F)` (`k < f`) are `failed`: those with `k % 5 == 4` (20%)
//!   were updated at `now`, the others (80%) at `now - 2 days`; those with
//!   `k % 10 == 0` (1 in 10, all of them among the two-day-old ones) carry the
//!   tag `warden-keep` (empty value). The rest are `accepted` with
//!   `updated_at == created_at`.
//!
//! So a gc with a minimum age below two days and the keep tag `warden-keep`
//! deletes `#{k < f : k % 5 != 4} - #{k < f : k % 10 == 0}` endpoints.

use rand::{rngs::StdRng, SeedableRng};
use time::{Duration, OffsetDateTime};

use crate::scenario::GenerateSpec;
use crate::state::{
    new_hex_id, new_uuid, Endpoint, EpStatus, NewEndpoint, Port, Service, State, SvcStatus, Tag,
};
use crate::Error;

/// The largest generated estate (connections plus endpoints), about 2 GB of memory.
pub const MAX_GENERATED: usize = 5_000_000;

/// Adds the generated estate `spec` describes to `state`.
pub(crate) fn generate(
    state: &mut State,
    spec: &GenerateSpec,
    now: OffsetDateTime,
) -> Result<(), Error> {
    for (name, ratio) in [
        ("pending_ratio", spec.pending_ratio),
        ("failed_ratio", spec.failed_ratio),
    ] {
        if !(0.0..=1.0).contains(&ratio) {
            return Err(Error::Scenario(format!(
                "generate.{name} must be within 0..=1, got {ratio}"
            )));
        }
    }
    let size = spec
        .services
        .checked_mul(spec.connections_per_service)
        .and_then(|n| n.checked_add(spec.endpoints))
        .filter(|n| *n <= MAX_GENERATED);
    if size.is_none() {
        return Err(Error::Scenario(format!(
            "generate: services x connections_per_service + endpoints must be at most {MAX_GENERATED}"
        )));
    }
    let age = spec.connection_age_minutes.map_or(Duration::days(7), |m| {
        Duration::minutes(m.min(525_600) as i64)
    });
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let mut allowed_counter = 0usize;
    for i in 0..spec.services {
        let created = now - Duration::days(30) + Duration::seconds(i as i64);
        let id = insert_service(state, &mut rng, format!("gen-{i:05}"), true, false, created);
        let pending = (spec.connections_per_service as f64 * spec.pending_ratio).round() as usize;
        for j in 0..spec.connections_per_service {
            let (status, domain) = if j < pending {
                let domain = if j % 2 == 0 && !spec.allowed_domains.is_empty() {
                    allowed_counter += 1;
                    spec.allowed_domains[(allowed_counter - 1) % spec.allowed_domains.len()].clone()
                } else {
                    new_hex_id(&mut rng)
                };
                (EpStatus::PendingAcceptance, domain)
            } else {
                (EpStatus::Accepted, new_hex_id(&mut rng))
            };
            let at = now - age + Duration::milliseconds(j as i64).min(age / 2);
            let ep = connection(state, &mut rng, &id, domain, status, at);
            state.insert_endpoint(ep);
        }
    }
    if spec.endpoints > 0 {
        generate_endpoints(state, spec, &mut rng, now);
    }
    Ok(())
}

fn generate_endpoints(
    state: &mut State,
    spec: &GenerateSpec,
    rng: &mut StdRng,
    now: OffsetDateTime,
) {
    let Some(owner) = state.accounts.first().cloned() else {
        return;
    };
    let target = insert_service(
        state,
        rng,
        "gen-public".into(),
        false,
        true,
        now - Duration::days(30),
    );
    let failed = (spec.endpoints as f64 * spec.failed_ratio).round() as usize;
    for k in 0..spec.endpoints {
        let created = now - Duration::days(3) + Duration::milliseconds(k as i64);
        let mut ep = connection(
            state,
            rng,
            &target,
            owner.domain_id.clone(),
            EpStatus::Accepted,
            created,
        );
        ep.project_id = owner.project_id.clone();
        if k < failed {
            ep.status = EpStatus::Failed;
            ep.updated_at = if k % 5 == 4 {
                now
            } else {
                now - Duration::days(2)
            };
            if k % 10 == 0 {
                ep.tags.push(Tag {
                    key: "warden-keep".into(),
                    value: String::new(),
                });
            }
        }
        state.insert_endpoint(ep);
    }
}

fn insert_service(
    state: &mut State,
    rng: &mut StdRng,
    name: String,
    approval_enabled: bool,
    public: bool,
    created_at: OffsetDateTime,
) -> String {
    let owner = if public {
        None
    } else {
        state.accounts.first().cloned()
    };
    let id = new_uuid(rng);
    let svc = Service {
        id: id.clone(),
        owner_domain: owner
            .as_ref()
            .map_or_else(|| "vpcep-public".into(), |a| a.domain_id.clone()),
        owner_project: owner
            .as_ref()
            .map_or_else(String::new, |a| a.project_id.clone()),
        owner_name: owner.as_ref().map_or_else(String::new, |a| a.name.clone()),
        service_name: name,
        port_id: new_uuid(rng),
        vpc_id: new_uuid(rng),
        server_type: "LB".into(),
        service_type: "interface".into(),
        approval_enabled,
        ports: vec![Port {
            client_port: 443,
            server_port: 8443,
            protocol: "TCP".into(),
        }],
        tcp_proxy: "close".into(),
        description: String::new(),
        public,
        created_at,
        updated_at: created_at,
        status: SvcStatus::Available,
        pending: None,
        connections: Vec::new(),
        permissions: Vec::new(),
    };
    state.services.insert(id.clone(), svc);
    id
}

fn connection(
    state: &mut State,
    rng: &mut StdRng,
    service_id: &str,
    domain_id: String,
    status: EpStatus,
    at: OffsetDateTime,
) -> Endpoint {
    let id = new_uuid(rng);
    let new = NewEndpoint {
        id,
        service_id: service_id.to_owned(),
        domain_id,
        project_id: None,
        marker_id: None,
        created_at: at,
        updated_at: at,
        status,
    };
    state.new_endpoint(rng, new)
}
