//! The choices a settings variable picks among: what to do with accounts not
//! allowed, reconciling, gc over its limit, the alert format, webhook auth.

/// What the approve job does with a pending connection from an account not allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotAllowed {
    /// Leave it pending (the default).
    Leave,
    /// Reject it.
    Reject,
}

/// What the approve job does with accepted connections whose account is no
/// longer allowed (`WARDEN_RECONCILE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reconcile {
    /// Nothing (the default).
    Off,
    /// List them in the report's `revoked`, marked not rejected.
    Report,
    /// Reject them, at most `WARDEN_RECONCILE_MAX` per run.
    Reject,
}

/// What gc does when more endpoints qualify than `WARDEN_GC_MAX_DELETES` (`WARDEN_GC_OVER_LIMIT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GcOverLimit {
    /// Delete none, skip all, raise a critical alert (the default).
    Refuse,
    /// Delete up to the cap, oldest first; skip the rest.
    Partial,
}

/// The body format of alert webhooks (`WARDEN_ALERT_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertFormat {
    /// `{"text": ..., "blocks": [...]}`: Slack (Mattermost and Rocket.Chat read `text`).
    Slack,
    /// Prometheus Alertmanager v2 `POST /api/v2/alerts` array.
    Alertmanager,
    /// The alert objects as they are.
    Json,
    /// Feishu (Lark) custom bot: `{"msg_type": "text", ...}`.
    Feishu,
    /// DingTalk custom robot: `{"msgtype": "text", ...}`.
    Dingtalk,
    /// WeCom (WeChat Work) group robot: `{"msgtype": "markdown", ...}`.
    Wecom,
    /// Microsoft Teams Workflows webhook: an Adaptive Card attachment.
    Teams,
}

/// How HTTP events are authenticated (`WARDEN_WEBHOOK_AUTH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookAuth {
    /// HMAC-SHA256 signature headers, checked against `WARDEN_WEBHOOK_SECRET`.
    Hmac,
    /// None: the platform authenticates (e.g. a Function URL with AWS_IAM).
    None,
}
