//! Building the estate from a [`Scenario`]: validation, defaults, links.

use rand::rngs::StdRng;
use time::{format_description::well_known::Rfc3339, OffsetDateTime};

use super::{
    new_hex_id, new_uuid, Account, Endpoint, EpStatus, NewEndpoint, Port, Quotas, Service, State,
    SvcStatus, Tag,
};
use crate::scenario::{
    ConnectionSpec, EndpointSpec, Scenario, ServiceSpec, DEFAULT_ENDPOINT_QUOTA,
    DEFAULT_SERVICE_QUOTA,
};
use crate::Error;

mod accounts;

use accounts::load_accounts;
pub(crate) use accounts::load_temporary;

fn bad(msg: impl Into<String>) -> Error {
    Error::Scenario(msg.into())
}

fn parse_time(
    value: Option<&str>,
    default: OffsetDateTime,
    at: &str,
) -> Result<OffsetDateTime, Error> {
    match value {
        None => Ok(default),
        Some(v) => OffsetDateTime::parse(v, &Rfc3339)
            .map_err(|e| bad(format!("{at}: {v:?} is not an RFC 3339 time ({e})"))),
    }
}

fn parse_ep_status(value: Option<&str>, default: EpStatus, at: &str) -> Result<EpStatus, Error> {
    value.map_or(Ok(default), |v| {
        EpStatus::parse(v).ok_or_else(|| {
            bad(format!(
                "{at}.status: {v:?} is not one of pendingAcceptance, creating, accepted, rejected, failed, deleting"
            ))
        })
    })
}

impl State {
    /// Builds the estate a scenario describes, at time `now`.
    pub fn load(scenario: &Scenario, now: OffsetDateTime) -> Result<State, Error> {
        let accounts = load_accounts(scenario)?;
        let quotas = scenario.quotas.clone().unwrap_or_default();
        let quotas = Quotas {
            endpoint: quotas.endpoint.unwrap_or(DEFAULT_ENDPOINT_QUOTA),
            endpoint_service: quotas.endpoint_service.unwrap_or(DEFAULT_SERVICE_QUOTA),
        };
        let mut state = State::empty(accounts, quotas);
        let mut rng = rand::make_rng::<StdRng>();
        if let Some(spec) = &scenario.organization {
            state.organization = Some(super::Organization::load(
                spec,
                &state.accounts,
                now,
                &mut rng,
            )?);
        }
        let mut service_ids = Vec::new();
        for (i, spec) in scenario.services.iter().enumerate() {
            service_ids.push(state.load_service(spec, &format!("services[{i}]"), now, &mut rng)?);
        }
        for (i, spec) in scenario.endpoints.iter().enumerate() {
            state.load_endpoint(spec, &format!("endpoints[{i}]"), now, &mut rng)?;
        }
        for (i, (spec, id)) in scenario.services.iter().zip(&service_ids).enumerate() {
            for (j, conn) in spec.connections.iter().enumerate() {
                let at = format!("services[{i}].connections[{j}]");
                state.load_connection(id, conn, &at, now, &mut rng)?;
            }
        }
        if let Some(spec) = &scenario.generate {
            crate::generate::generate(&mut state, spec, now)?;
        }
        Ok(state)
    }

    fn owner(&self, name: Option<&str>, at: &str) -> Result<Account, Error> {
        match name {
            None => self
                .accounts
                .first()
                .cloned()
                .ok_or_else(|| bad("no accounts")),
            Some(n) => self
                .accounts
                .iter()
                .find(|a| a.name == n)
                .cloned()
                .ok_or_else(|| bad(format!("{at}.owner: no account is named {n:?}"))),
        }
    }

    fn load_service(
        &mut self,
        spec: &ServiceSpec,
        at: &str,
        now: OffsetDateTime,
        rng: &mut StdRng,
    ) -> Result<String, Error> {
        let owner = self.owner(spec.owner.as_deref(), at)?;
        let id = spec.id.clone().unwrap_or_else(|| new_uuid(rng));
        if self.services.contains_key(&id) {
            return Err(bad(format!("{at}.id: {id:?} is used twice")));
        }
        let status = match spec.status.as_deref() {
            None => SvcStatus::Available,
            Some(s) => SvcStatus::parse(s).ok_or_else(|| {
                bad(format!(
                    "{at}.status: {s:?} is not one of creating, available, failed, deleting"
                ))
            })?,
        };
        let created_at = parse_time(spec.created_at.as_deref(), now, &format!("{at}.created_at"))?;
        let updated_at = parse_time(
            spec.updated_at.as_deref(),
            created_at,
            &format!("{at}.updated_at"),
        )?;
        let ports = spec.ports.clone().unwrap_or_default();
        let ports = if ports.is_empty() {
            vec![Port {
                client_port: 80,
                server_port: 80,
                protocol: "TCP".into(),
            }]
        } else {
            ports
                .into_iter()
                .map(|p| Port {
                    client_port: p.client_port,
                    server_port: p.server_port,
                    protocol: p.protocol.unwrap_or_else(|| "TCP".into()),
                })
                .collect()
        };
        let mut svc = Service {
            service_name: spec
                .service_name
                .clone()
                .unwrap_or_else(|| format!("svc-{}", id.chars().take(8).collect::<String>())),
            id: id.clone(),
            owner_domain: owner.domain_id.clone(),
            owner_project: owner.project_id.clone(),
            owner_name: owner.name.clone(),
            port_id: spec.port_id.clone().unwrap_or_else(|| new_uuid(rng)),
            vpc_id: spec.vpc_id.clone().unwrap_or_else(|| new_uuid(rng)),
            server_type: spec.server_type.clone().unwrap_or_else(|| "LB".into()),
            service_type: spec
                .service_type
                .clone()
                .unwrap_or_else(|| "interface".into()),
            approval_enabled: spec.approval_enabled.unwrap_or(true),
            ports,
            tcp_proxy: spec.tcp_proxy.clone().unwrap_or_else(|| "close".into()),
            description: spec.description.clone().unwrap_or_default(),
            public: spec.public,
            created_at,
            updated_at,
            status,
            pending: None,
            connections: Vec::new(),
            permissions: Vec::new(),
        };
        for p in &spec.permissions {
            svc.permissions.push(super::Permission {
                id: new_uuid(rng),
                permission: p.clone(),
                description: String::new(),
                created_at,
            });
        }
        self.services.insert(id.clone(), svc);
        Ok(id)
    }

    fn load_endpoint(
        &mut self,
        spec: &EndpointSpec,
        at: &str,
        now: OffsetDateTime,
        rng: &mut StdRng,
    ) -> Result<(), Error> {
        let owner = self.owner(spec.owner.as_deref(), at)?;
        let id = spec.id.clone().unwrap_or_else(|| new_uuid(rng));
        if self.endpoint_slot(&id).is_some() {
            return Err(bad(format!("{at}.id: {id:?} is used twice")));
        }
        let status = parse_ep_status(spec.status.as_deref(), EpStatus::Accepted, at)?;
        let (created_at, updated_at) = times(
            spec.created_at.as_deref(),
            spec.updated_at.as_deref(),
            now,
            at,
        )?;
        let base = self.new_endpoint(
            rng,
            NewEndpoint {
                id,
                service_id: spec.endpoint_service_id.clone().unwrap_or_default(),
                domain_id: owner.domain_id.clone(),
                project_id: Some(owner.project_id.clone()),
                marker_id: spec.marker_id,
                created_at,
                updated_at,
                status,
            },
        );
        let ep = Endpoint {
            vpc_id: spec.vpc_id.clone().unwrap_or(base.vpc_id.clone()),
            subnet_id: spec.subnet_id.clone().unwrap_or(base.subnet_id.clone()),
            ip: spec.ip.clone().unwrap_or(base.ip.clone()),
            enable_dns: spec.enable_dns,
            tags: spec
                .tags
                .iter()
                .map(|t| Tag {
                    key: t.key.clone(),
                    value: t.value.clone(),
                })
                .collect(),
            description: spec.description.clone().unwrap_or_default(),
            connection_description: spec.connection_description.clone().unwrap_or_default(),
            ..base
        };
        self.insert_endpoint(ep);
        Ok(())
    }

    fn load_connection(
        &mut self,
        service_id: &str,
        spec: &ConnectionSpec,
        at: &str,
        now: OffsetDateTime,
        rng: &mut StdRng,
    ) -> Result<(), Error> {
        if let Some(slot) = spec
            .endpoint_id
            .as_deref()
            .and_then(|id| self.endpoint_slot(id))
        {
            self.link_existing(service_id, slot, at)?;
            if let (Some(note), Some(ep)) = (&spec.connection_description, self.endpoint_mut(slot))
            {
                ep.connection_description = note.clone();
            }
            return Ok(());
        }
        let approval = self
            .services
            .get(service_id)
            .is_some_and(|s| s.approval_enabled);
        let default_status = if approval {
            EpStatus::PendingAcceptance
        } else {
            EpStatus::Accepted
        };
        let status = parse_ep_status(spec.status.as_deref(), default_status, at)?;
        let (created_at, updated_at) = times(
            spec.created_at.as_deref(),
            spec.updated_at.as_deref(),
            now,
            at,
        )?;
        let id = spec.endpoint_id.clone().unwrap_or_else(|| new_uuid(rng));
        let new = NewEndpoint {
            id,
            service_id: service_id.to_owned(),
            domain_id: spec.domain_id.clone().unwrap_or_else(|| new_hex_id(rng)),
            project_id: None,
            marker_id: spec.marker_id,
            created_at,
            updated_at,
            status,
        };
        let ep = Endpoint {
            description: spec.description.clone().unwrap_or_default(),
            connection_description: spec.connection_description.clone().unwrap_or_default(),
            ..self.new_endpoint(rng, new)
        };
        self.insert_endpoint(ep);
        Ok(())
    }

    fn link_existing(&mut self, service_id: &str, slot: u32, at: &str) -> Result<(), Error> {
        let linked_to = self
            .endpoint(slot)
            .map(|e| e.service_id.clone())
            .unwrap_or_default();
        if linked_to == service_id {
            return Ok(());
        }
        if !linked_to.is_empty() {
            return Err(bad(format!(
                "{at}.endpoint_id: that endpoint connects to service {linked_to:?}"
            )));
        }
        if let Some(ep) = self.endpoint_mut(slot) {
            ep.service_id = service_id.to_owned();
        }
        if let Some(svc) = self.services.get_mut(service_id) {
            svc.connections.push(slot);
        }
        Ok(())
    }
}

/// `created_at` (default `now`) and `updated_at` (default `created_at`) of a scenario entry.
fn times(
    created: Option<&str>,
    updated: Option<&str>,
    now: OffsetDateTime,
    at: &str,
) -> Result<(OffsetDateTime, OffsetDateTime), Error> {
    let created_at = parse_time(created, now, &format!("{at}.created_at"))?;
    let updated_at = parse_time(updated, created_at, &format!("{at}.updated_at"))?;
    Ok((created_at, updated_at))
}
