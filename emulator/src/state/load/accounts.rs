//! The accounts of a scenario, checked: unique names and access keys, their
//! temporary credentials and agencies.

use std::collections::HashSet;

use time::{format_description::well_known::Rfc3339, OffsetDateTime};

use super::bad;
use crate::scenario::{AgencySpec, Scenario, TemporarySpec};
use crate::state::{Account, Temporary};
use crate::Error;

pub(super) fn load_accounts(scenario: &Scenario) -> Result<Vec<Account>, Error> {
    if scenario.accounts.is_empty() {
        return Err(bad("`accounts` must name at least one account"));
    }
    let (mut names, mut aks) = (HashSet::new(), HashSet::new());
    let mut out = Vec::new();
    for (i, a) in scenario.accounts.iter().enumerate() {
        for (field, value) in [
            ("name", &a.name),
            ("domain_id", &a.domain_id),
            ("project_id", &a.project_id),
            ("ak", &a.ak),
            ("sk", &a.sk),
        ] {
            if value.is_empty() {
                return Err(bad(format!("accounts[{i}].{field} must not be empty")));
            }
        }
        if !names.insert(a.name.clone()) || !aks.insert(a.ak.clone()) {
            return Err(bad(format!("accounts[{i}]: name and ak must be unique")));
        }
        let mut temporary = Vec::new();
        for (j, t) in a.temporary.iter().enumerate() {
            let at = format!("accounts[{i}].temporary[{j}]");
            let t = load_temporary(t, &at)?;
            if !aks.insert(t.ak.clone()) {
                return Err(bad(format!("{at}.ak: {:?} is already an access key", t.ak)));
            }
            temporary.push(t);
        }
        out.push(Account {
            name: a.name.clone(),
            domain_id: a.domain_id.clone(),
            project_id: a.project_id.clone(),
            ak: a.ak.clone(),
            sk: a.sk.clone(),
            token: a.token.clone().filter(|t| !t.is_empty()),
            domain_token: a.domain_token.clone().filter(|t| !t.is_empty()),
            temporary,
            agencies: load_agencies(&a.agencies, i)?,
        });
    }
    Ok(out)
}

/// The agencies of `accounts[i]`, checked: names and trusted accounts set,
/// names unique, durations from 1 s to a day.
fn load_agencies(agencies: &[AgencySpec], i: usize) -> Result<Vec<AgencySpec>, Error> {
    let mut names = HashSet::new();
    for (j, a) in agencies.iter().enumerate() {
        let at = format!("accounts[{i}].agencies[{j}]");
        if a.name.is_empty() || a.trusted_domain_id.is_empty() {
            return Err(bad(format!(
                "{at}: name and trusted_domain_id must not be empty"
            )));
        }
        if !names.insert(a.name.as_str()) {
            return Err(bad(format!("{at}.name: {:?} is used twice", a.name)));
        }
        if a.duration_seconds
            .is_some_and(|d| !(1..=86_400).contains(&d))
        {
            return Err(bad(format!(
                "{at}.duration_seconds must be from 1 to 86400"
            )));
        }
    }
    Ok(agencies.to_vec())
}

/// A temporary credential, checked: no empty field, `expires_at` an RFC 3339 time.
pub(crate) fn load_temporary(spec: &TemporarySpec, at: &str) -> Result<Temporary, Error> {
    for (field, value) in [
        ("ak", &spec.ak),
        ("sk", &spec.sk),
        ("security_token", &spec.security_token),
    ] {
        if value.is_empty() {
            return Err(bad(format!("{at}.{field} must not be empty")));
        }
    }
    let expires_at = OffsetDateTime::parse(&spec.expires_at, &Rfc3339).map_err(|e| {
        bad(format!(
            "{at}.expires_at: {:?} is not an RFC 3339 time ({e})",
            spec.expires_at
        ))
    })?;
    Ok(Temporary {
        ak: spec.ak.clone(),
        sk: spec.sk.clone(),
        security_token: spec.security_token.clone(),
        expires_at,
    })
}
