//! IAM tokens got by password (`WARDEN_IAM_*`): one scoped to the project
//! for VPCEP, one scoped to the account for IAM, each kept until less than
//! an hour of its life is left, then renewed.

use reqwest::Method;
use time::OffsetDateTime;
use url::Url;

use super::auth::{self, Auth, Authn, Scope, TokenScope};
use super::error::{ApiError, ApiErrorKind};
use super::Client;
use crate::config::Secret;

impl Client {
    /// The token to send: the fixed one, or the cached IAM token of the
    /// scope (the project's, or for IAM the account's), renewed when less
    /// than an hour is left; `None` for AK/SK.
    pub(super) async fn token(&self, scope: Scope<'_>) -> Result<Option<Secret>, ApiError> {
        let Auth::Password {
            tokens_url,
            user,
            password,
            domain,
            cache,
            domain_cache,
            ..
        } = self.auth()
        else {
            return Ok(match self.auth() {
                Auth::Token(token) => Some(token.clone()),
                _ => None,
            });
        };
        let (cache, token_scope) = match scope {
            Scope::Project(project_id) => (cache, TokenScope::Project(project_id)),
            Scope::Global(_) => (domain_cache, TokenScope::Domain(domain)),
        };
        let mut cached = cache.lock().await;
        if let Some(token) = cached
            .as_ref()
            .filter(|t| t.is_fresh(OffsetDateTime::now_utc()))
        {
            return Ok(Some(token.value.clone()));
        }
        let (action, target) = ("get an IAM token", format!("for user {user}"));
        let url = Url::parse(tokens_url).map_err(|e| {
            ApiError::new(
                action,
                target.clone(),
                ApiErrorKind::Invalid {
                    detail: format!("bad IAM endpoint: {e}"),
                },
            )
        })?;
        let body = auth::password_body(user, password, domain, token_scope).to_string();
        let answer = self
            .send(
                action,
                &target,
                &Method::POST,
                &url,
                body.as_bytes(),
                &Authn::Anonymous,
                Scope::Global(None),
            )
            .await?;
        let token =
            auth::token_from_answer(&answer.headers, &answer.body, OffsetDateTime::now_utc())
                .map_err(|kind| ApiError::new(action, target, kind))?;
        self.auth().remember(&token.value);
        tracing::info!(expires_at = %token.expires_at, "obtained an IAM token");
        let value = token.value.clone();
        *cached = Some(token);
        Ok(Some(value))
    }
}
