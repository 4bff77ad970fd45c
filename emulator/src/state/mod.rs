//! The estate the emulator serves: accounts, services, endpoints, and the
//! transitions in progress.
//!
//! Endpoints live in slots (`Vec<Option<Endpoint>>`) so that services and the
//! per-project index refer to them by a small number. Transitions are not run
//! by timers: each request first calls [`State::settle`], which applies every
//! transition whose time is up, in order, from a queue keyed by due time.

mod load;
mod model;
mod new_endpoint;
mod organization;

use std::collections::{BTreeMap, HashMap};

use rand::{Rng, RngExt};
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

pub(crate) use load::load_temporary;
pub(crate) use model::*;
pub(crate) use new_endpoint::{ip_for, NewEndpoint};
pub(crate) use organization::{Member, Organization, Unit};

/// Which record a queued transition belongs to.
#[derive(Debug, Clone)]
enum Due {
    Endpoint(u32),
    Service(String),
}

/// Quotas per account.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Quotas {
    pub endpoint: u64,
    pub endpoint_service: u64,
}

/// The whole estate.
#[derive(Debug)]
pub(crate) struct State {
    pub accounts: Vec<Account>,
    pub quotas: Quotas,
    pub services: BTreeMap<String, Service>,
    /// The organization, when the scenario has one.
    pub organization: Option<Organization>,
    endpoints: Vec<Option<Endpoint>>,
    endpoint_slots: HashMap<String, u32>,
    by_project: HashMap<String, Vec<u32>>,
    due: BTreeMap<(OffsetDateTime, u64), Due>,
    seq: u64,
    next_marker: u64,
}

/// A random id in the API's UUID form (`8-4-4-4-12` hex digits).
pub(crate) fn new_uuid(rng: &mut impl Rng) -> String {
    let hex = new_hex_id(rng);
    let mut out = String::with_capacity(36);
    for (i, c) in hex.chars().enumerate() {
        if matches!(i, 8 | 12 | 16 | 20) {
            out.push('-');
        }
        out.push(c);
    }
    out
}

/// A random 32-hex-digit id, the form of domain and project ids.
pub(crate) fn new_hex_id(rng: &mut impl Rng) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes: [u8; 16] = rng.random();
    let mut out = String::with_capacity(32);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

impl State {
    fn empty(accounts: Vec<Account>, quotas: Quotas) -> Self {
        Self {
            accounts,
            quotas,
            services: BTreeMap::new(),
            organization: None,
            endpoints: Vec::new(),
            endpoint_slots: HashMap::new(),
            by_project: HashMap::new(),
            due: BTreeMap::new(),
            seq: 0,
            next_marker: 16_777_216,
        }
    }

    /// The account an access key belongs to, with the temporary credential
    /// when it is a temporary one.
    pub fn credential(&self, ak: &str) -> Option<(&Account, Option<&Temporary>)> {
        self.accounts.iter().find_map(|a| {
            if a.ak == ak {
                return Some((a, None));
            }
            a.temporary
                .iter()
                .find(|t| t.ak == ak)
                .map(|t| (a, Some(t)))
        })
    }

    /// Gives the account `name` a temporary credential; its access key must be new.
    pub fn add_temporary(&mut self, name: &str, temporary: Temporary) -> Result<(), String> {
        if self.credential(&temporary.ak).is_some() {
            return Err(format!("ak: {:?} is already an access key", temporary.ak));
        }
        let Some(account) = self.accounts.iter_mut().find(|a| a.name == name) else {
            return Err(format!("account: no account is named {name:?}"));
        };
        account.temporary.push(temporary);
        Ok(())
    }

    /// The account with this token.
    pub fn account_by_token(&self, token: &str) -> Option<&Account> {
        self.accounts
            .iter()
            .find(|a| a.token.as_deref() == Some(token) || a.domain_token.as_deref() == Some(token))
    }

    pub(crate) fn account_by_domain(&self, domain_id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.domain_id == domain_id)
    }

    /// A fresh marker id.
    pub fn take_marker(&mut self) -> u64 {
        self.next_marker += 1;
        self.next_marker
    }

    /// Applies every transition due at or before `now`.
    pub fn settle(&mut self, now: OffsetDateTime) {
        while let Some(entry) = self.due.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let ((at, seq), due) = entry.remove_entry();
            match due {
                Due::Endpoint(slot) => self.finish_endpoint(slot, at, seq),
                Due::Service(id) => self.finish_service(&id, at, seq),
            }
        }
    }

    fn finish_endpoint(&mut self, slot: u32, at: OffsetDateTime, seq: u64) {
        let Some(ep) = self.endpoint_mut(slot) else {
            return;
        };
        let Some(pending) = ep.pending.filter(|p| p.seq == seq) else {
            return;
        };
        ep.pending = None;
        match pending.next {
            Next::To(status) => {
                ep.status = status;
                ep.updated_at = at;
            }
            Next::Gone => self.remove_endpoint(slot),
        }
    }

    fn finish_service(&mut self, id: &str, at: OffsetDateTime, seq: u64) {
        let Some(svc) = self.services.get_mut(id) else {
            return;
        };
        let Some(pending) = svc.pending.filter(|p| p.seq == seq) else {
            return;
        };
        svc.pending = None;
        match pending.next {
            Next::To(status) => {
                svc.status = status;
                svc.updated_at = at;
            }
            Next::Gone => {
                self.services.remove(id);
            }
        }
    }

    /// Moves an endpoint into `shown` for `transition`, then to `next`; with a zero
    /// transition it goes to `next` at once.
    pub fn transition_endpoint(
        &mut self,
        slot: u32,
        shown: EpStatus,
        next: Next<EpStatus>,
        now: OffsetDateTime,
        transition: Duration,
    ) {
        if transition.is_zero() {
            match next {
                Next::To(status) => {
                    if let Some(ep) = self.endpoint_mut(slot) {
                        (ep.status, ep.updated_at, ep.pending) = (status, now, None);
                    }
                }
                Next::Gone => self.remove_endpoint(slot),
            }
            return;
        }
        self.seq += 1;
        let seq = self.seq;
        let until = now + transition;
        if let Some(ep) = self.endpoint_mut(slot) {
            ep.status = shown;
            ep.updated_at = now;
            ep.pending = Some(Pending { next, seq });
            self.due.insert((until, seq), Due::Endpoint(slot));
        }
    }

    /// Moves a service into `shown` for `transition`, then to `next`.
    pub fn transition_service(
        &mut self,
        id: &str,
        shown: SvcStatus,
        next: Next<SvcStatus>,
        now: OffsetDateTime,
        transition: Duration,
    ) {
        if transition.is_zero() {
            match next {
                Next::To(status) => {
                    if let Some(svc) = self.services.get_mut(id) {
                        (svc.status, svc.updated_at, svc.pending) = (status, now, None);
                    }
                }
                Next::Gone => {
                    self.services.remove(id);
                }
            }
            return;
        }
        self.seq += 1;
        let seq = self.seq;
        let until = now + transition;
        if let Some(svc) = self.services.get_mut(id) {
            svc.status = shown;
            svc.updated_at = now;
            svc.pending = Some(Pending { next, seq });
            self.due.insert((until, seq), Due::Service(id.to_owned()));
        }
    }

    /// Adds an endpoint, links it to its service (when that exists) and indexes it.
    pub fn insert_endpoint(&mut self, ep: Endpoint) -> u32 {
        let slot = u32::try_from(self.endpoints.len()).unwrap_or(u32::MAX);
        self.endpoint_slots.insert(ep.id.clone(), slot);
        self.by_project
            .entry(ep.project_id.clone())
            .or_default()
            .push(slot);
        if let Some(svc) = self.services.get_mut(&ep.service_id) {
            svc.connections.push(slot);
        }
        self.endpoints.push(Some(ep));
        slot
    }

    fn remove_endpoint(&mut self, slot: u32) {
        let Some(ep) = self.endpoints.get_mut(slot as usize).and_then(Option::take) else {
            return;
        };
        self.endpoint_slots.remove(&ep.id);
        if let Some(list) = self.by_project.get_mut(&ep.project_id) {
            list.retain(|s| *s != slot);
        }
        if let Some(svc) = self.services.get_mut(&ep.service_id) {
            svc.connections.retain(|s| *s != slot);
        }
    }

    /// The slot of the endpoint with this id.
    pub fn endpoint_slot(&self, id: &str) -> Option<u32> {
        self.endpoint_slots.get(id).copied()
    }

    /// The endpoint in `slot`.
    pub fn endpoint(&self, slot: u32) -> Option<&Endpoint> {
        self.endpoints.get(slot as usize).and_then(Option::as_ref)
    }

    /// The endpoint in `slot`, to change.
    pub fn endpoint_mut(&mut self, slot: u32) -> Option<&mut Endpoint> {
        self.endpoints
            .get_mut(slot as usize)
            .and_then(Option::as_mut)
    }

    /// The endpoints owned by a project, in creation order.
    pub fn endpoints_of(&self, project_id: &str) -> impl Iterator<Item = &Endpoint> {
        self.by_project
            .get(project_id)
            .into_iter()
            .flatten()
            .filter_map(|slot| self.endpoint(*slot))
    }

    /// The endpoints connected to a service.
    pub fn connections_of<'a>(&'a self, svc: &'a Service) -> impl Iterator<Item = &'a Endpoint> {
        svc.connections
            .iter()
            .filter_map(|slot| self.endpoint(*slot))
    }

    /// Services and endpoints a project owns: `(endpoint_service, endpoint)`.
    pub fn used(&self, project_id: &str) -> (u64, u64) {
        let services = self
            .services
            .values()
            .filter(|s| s.owner_project == project_id)
            .count();
        let endpoints = self.by_project.get(project_id).map_or(0, Vec::len);
        (services as u64, endpoints as u64)
    }

    /// The name of a service, or an empty string when it is gone.
    pub fn service_name(&self, id: &str) -> &str {
        self.services
            .get(id)
            .map_or("", |s| s.service_name.as_str())
    }

    /// The admin view: accounts (without secrets), services with their
    /// connections and whitelists, the accounts' endpoints, and the
    /// organization (`null` without one).
    pub fn to_admin_json(&self) -> Value {
        let accounts: Vec<Value> = self
            .accounts
            .iter()
            .map(|a| {
                json!({"name": a.name, "domain_id": a.domain_id, "project_id": a.project_id,
                       "ak": a.ak, "has_token": a.token.is_some(),
                       "temporary": a.temporary.iter()
                           .map(|t| json!({"ak": t.ak, "expires_at": format_time(t.expires_at)}))
                           .collect::<Vec<_>>(),
                       "agencies": a.agencies.iter()
                           .map(|g| json!({"name": g.name, "trusted_domain_id": g.trusted_domain_id}))
                           .collect::<Vec<_>>()})
            })
            .collect();
        let services: Vec<Value> = self
            .services
            .values()
            .map(|s| self.admin_service(s))
            .collect();
        let endpoints: Vec<Value> = self
            .accounts
            .iter()
            .flat_map(|a| self.endpoints_of(&a.project_id).map(move |e| (a, e)))
            .map(|(a, e)| {
                json!({"id": e.id, "owner": a.name, "status": e.status.as_str(),
                       "endpoint_service_id": e.service_id, "marker_id": e.marker_id,
                       "created_at": format_time(e.created_at), "updated_at": format_time(e.updated_at),
                       "tags": e.tags.iter().map(|t| json!({"key": t.key, "value": t.value})).collect::<Vec<_>>()})
            })
            .collect();
        let organization = self.organization.as_ref().map(|o| {
            json!({"id": o.id, "management_account_id": o.management_account_id,
                   "delegated_administrators": o.delegated,
                   "units": o.units.iter().map(|u| json!({"id": u.id, "name": u.name, "path": u.path})).collect::<Vec<_>>(),
                   "accounts": o.members.iter().map(|m| json!({"domain_id": m.id, "name": m.name, "parent": m.parent})).collect::<Vec<_>>()})
        });
        json!({"accounts": accounts, "quotas": {"endpoint": self.quotas.endpoint,
               "endpoint_service": self.quotas.endpoint_service},
               "services": services, "endpoints": endpoints, "organization": organization})
    }

    fn admin_service(&self, s: &Service) -> Value {
        let connections: Vec<Value> = self
            .connections_of(s)
            .map(|e| {
                json!({"endpoint_id": e.id, "domain_id": e.domain_id, "status": e.status.as_str(),
                       "marker_id": e.marker_id, "created_at": format_time(e.created_at),
                       "updated_at": format_time(e.updated_at)})
            })
            .collect();
        json!({"id": s.id, "owner": s.owner_name, "service_name": s.service_name,
               "status": s.status.as_str(), "approval_enabled": s.approval_enabled,
               "public": s.public,
               "permissions": s.permissions.iter().map(|p| p.permission.as_str()).collect::<Vec<_>>(),
               "connections": connections})
    }
}
