//! The organization as one run sees it: read through the context's client
//! (a target's agency, when it has one) at most once per run, and only when
//! a rule needs it; when it cannot be read, why, and what to fix.

use tracing::warn;

use super::Ctx;
use crate::organization::OrgView;
use crate::vpcep::{check::organization_hint, iam_endpoint};

impl Ctx {
    /// The organization for this run: read on first use (the client keeps a
    /// tree read in the last five minutes across warm invocations), then the
    /// same view for the rest of the run, a failure included, so a hundred
    /// services do not ask a hundred times.
    pub async fn organization(&self) -> OrgView {
        self.organization
            .get_or_init(|| async {
                let s = &self.settings;
                match self
                    .client
                    .organization(&s.organizations.endpoint, iam_endpoint(s))
                    .await
                {
                    Ok(tree) => OrgView::Read(tree),
                    Err(e) => {
                        let hint = organization_hint(&e);
                        warn!(error = %e, hint, "the organization cannot be read: accounts an org-path or account-name rule might allow are left pending");
                        OrgView::Unreadable(format!("{e}; {hint}"))
                    }
                }
            })
            .await
            .clone()
    }
}
