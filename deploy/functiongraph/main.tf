# vpcep-warden on FunctionGraph: the custom-runtime function built by
# package.sh, an agency that lends it the least VPCEP and SMN permissions,
# a private, encrypted OBS bucket for its state (what was sent, announced
# and first seen: WARDEN_STATE), read and written with the agency's
# temporary credentials through OBS's S3-compatible API,
# two timers (approve and gc every 5 minutes, quota hourly) and a webhook
# behind API Gateway. With `targets` and `fan_out`, each timer hands every
# target a tick of its own: the function invokes itself asynchronously once
# per target (FunctionGraph queues and retries those invocations).

terraform {
  required_version = ">= 1.3"

  required_providers {
    huaweicloud = {
      source  = "huaweicloud/huaweicloud"
      version = ">= 1.60.0"
    }
  }
}

provider "huaweicloud" {
  region = var.region
}

locals {
  # What the warden calls and nothing else: the approve, quota and gc jobs,
  # the audit marks (connections:update, as accepting) and SMN alerts.
  actions = [
    "vpcep:quotas:get",
    "vpcep:epservices:list",
    "vpcep:epservices:get",
    "vpcep:connections:list",
    "vpcep:connections:update",
    "vpcep:permissions:list",
    "vpcep:endpoints:list",
    "vpcep:endpoints:get",
    "vpcep:endpoints:delete",
    "smn:topic:publish",
  ]

  # The function's own URN, built from its parts (it cannot name itself).
  function_urn = "urn:fss:${var.region}:${var.project_id}:function:default:${var.name}:latest"

  # A timer's event: a tick of `jobs` here, or handed to every target.
  timer_event = {
    for name, jobs in { approve_and_gc = "approve,gc", quota = "quota" } :
    name => var.fan_out ? jsonencode({ warden = "fanout", jobs = split(",", jobs) }) : jsonencode({ jobs = jobs })
  }

  settings = merge(
    {
      HUAWEICLOUD_SDK_PROJECT_ID = var.project_id
      WARDEN_REGION              = var.region
      WARDEN_ALLOWED_DOMAINS     = join(",", var.allowed_domains)
      WARDEN_SERVICE_IDS         = join(",", var.service_ids)
      WARDEN_NOT_ALLOWED         = var.not_allowed
      WARDEN_SMN_TOPIC_URN       = var.smn_topic_urn
      # The approve timer below runs every 5 minutes.
      WARDEN_SCHEDULE_MINUTES = "5"
      WARDEN_TARGETS          = var.targets
      WARDEN_FUNCTION_URN     = var.fan_out ? local.function_urn : ""
      # Signed with each invocation's agency credentials (AK/SK and security
      # token); the endpoint is OBS of WARDEN_REGION.
      WARDEN_STATE = "s3://${huaweicloud_obs_bucket.state.bucket}/warden"
    },
    var.extra_settings,
  )
}

# A custom policy at project level ("XA"): VPCEP and SMN are project-level services.
resource "huaweicloud_identity_role" "warden" {
  name        = "${var.name}-policy"
  description = "vpcep-warden: approve connections, read quotas, delete failed endpoints, publish alerts"
  type        = "XA"
  policy = jsonencode({
    Version = "1.1"
    Statement = [
      {
        Effect = "Allow"
        Action = concat(local.actions, var.fan_out ? ["functiongraph:function:invokeAsync"] : [])
      },
    ]
  })
}

# The state bucket: private, encrypted with OBS-managed keys (SSE-OBS), a
# document not rewritten for 90 days (a target since removed) expires, and
# so do the probes `check` may leave behind.
resource "huaweicloud_obs_bucket" "state" {
  bucket        = var.state_bucket
  acl           = "private"
  storage_class = "STANDARD"
  encryption    = true
  sse_algorithm = "AES256"

  lifecycle_rule {
    name    = "expire-stale-documents"
    prefix  = "warden"
    enabled = true
    expiration {
      days = 90
    }
  }

  lifecycle_rule {
    name    = "expire-check-probes"
    prefix  = "warden/checks"
    enabled = true
    expiration {
      days = 1
    }
  }
}

# OBS is a global service in IAM: its policy is a global one ("AX"), and
# reaches the objects of the state bucket only.
resource "huaweicloud_identity_role" "state" {
  name        = "${var.name}-state-policy"
  description = "vpcep-warden: read and write its state documents"
  type        = "AX"
  policy = jsonencode({
    Version = "1.1"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["obs:object:GetObject", "obs:object:PutObject", "obs:object:DeleteObject"]
        Resource = ["OBS:*:*:object:${huaweicloud_obs_bucket.state.bucket}/*"]
      },
      # Without it a document not yet written reads as 403, not 404.
      {
        Effect   = "Allow"
        Action   = ["obs:bucket:ListBucket"]
        Resource = ["OBS:*:*:bucket:${huaweicloud_obs_bucket.state.bucket}"]
      },
    ]
  })
}

# FunctionGraph (op_svc_cff) acts with this agency in the region's project
# only, and on the state bucket's objects.
resource "huaweicloud_identity_agency" "warden" {
  name                   = "${var.name}-agency"
  description            = "Lets the vpcep-warden function call VPCEP and SMN and keep its state in OBS"
  delegated_service_name = "op_svc_cff"

  project_role {
    project = var.region
    roles   = [huaweicloud_identity_role.warden.name]
  }

  domain_roles = [huaweicloud_identity_role.state.name]
}

resource "huaweicloud_fgs_function" "warden" {
  name        = var.name
  app         = "default"
  description = "vpcep-warden: keeps the VPC endpoint estate tidy"
  runtime     = "Custom"
  handler     = "bootstrap"
  memory_size = var.memory_size
  timeout     = var.timeout
  agency      = huaweicloud_identity_agency.warden.name

  code_type     = "zip"
  code_filename = basename(var.package_path)
  func_code     = filebase64(var.package_path)

  user_data = jsonencode({ for k, v in local.settings : k => v if v != "" })
  encrypted_user_data = jsonencode({
    WARDEN_WEBHOOK_SECRET = var.webhook_secret
  })
}

resource "huaweicloud_fgs_function_trigger" "approve_and_gc" {
  function_urn = huaweicloud_fgs_function.warden.urn
  type         = "TIMER"
  status       = "ACTIVE"
  event_data = jsonencode({
    name          = "${var.name}-every-5-minutes"
    schedule_type = "Rate"
    schedule      = "5m"
    user_event    = local.timer_event.approve_and_gc
  })
}

resource "huaweicloud_fgs_function_trigger" "quota" {
  function_urn = huaweicloud_fgs_function.warden.urn
  type         = "TIMER"
  status       = "ACTIVE"
  event_data = jsonencode({
    name          = "${var.name}-hourly"
    schedule_type = "Rate"
    schedule      = "1h"
    user_event    = local.timer_event.quota
  })
}

# With fan-out, each target's tick is an asynchronous invocation: retried
# twice when it fails, dropped when an hour old (the next timer sends anew).
resource "huaweicloud_fgs_async_invoke_configuration" "warden" {
  count                          = var.fan_out ? 1 : 0
  function_urn                   = huaweicloud_fgs_function.warden.urn
  max_async_event_age_in_seconds = 3600
  max_async_retry_attempts       = 2
}

# The webhook: POST /webhook on a dedicated API Gateway. No gateway
# authentication ("NONE"): the warden checks the request's HMAC itself
# (X-Warden-Signature, WARDEN_WEBHOOK_SECRET).
resource "huaweicloud_fgs_function_trigger" "webhook" {
  function_urn = huaweicloud_fgs_function.warden.urn
  type         = "DEDICATEDGATEWAY"
  status       = "ACTIVE"
  event_data = jsonencode({
    instance_id = var.apig_instance_id
    group_id    = var.apig_group_id
    name        = replace("${var.name}_webhook", "-", "_")
    env_id      = "DEFAULT_ENVIRONMENT_RELEASE_ID"
    env_name    = "RELEASE"
    type        = 1
    path        = "/webhook"
    req_method  = "POST"
    match_mode  = "NORMAL"
    protocol    = "HTTPS"
    auth        = "NONE"
    # The gateway's backend timeout, in ms; API Gateway allows up to 60 s by default.
    func_info = { timeout = min(var.timeout * 1000, 60000) }
  })
}

output "function_urn" {
  description = "URN of the function."
  value       = huaweicloud_fgs_function.warden.urn
}

output "state_bucket" {
  description = "The OBS bucket of the state documents (WARDEN_STATE=s3://<this>/warden)."
  value       = huaweicloud_obs_bucket.state.bucket
}

output "agency" {
  description = "The agency the function runs with."
  value       = huaweicloud_identity_agency.warden.name
}
