# Inputs of the FunctionGraph example. Only region, project_id,
# allowed_domains, webhook_secret and the API Gateway ids are required.

variable "region" {
  description = "Region of the function and of the VPC endpoint services it manages, e.g. cn-north-4 (WARDEN_REGION)."
  type        = string
}

variable "project_id" {
  description = "Project whose endpoint services and endpoints are managed (HUAWEICLOUD_SDK_PROJECT_ID)."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{32}$", var.project_id))
    error_message = "project_id is the 32-character lowercase hexadecimal project id of the region's project."
  }
}

variable "name" {
  description = "Name of the function; the agency and the custom policy are named after it."
  type        = string
  default     = "vpcep-warden"
}

variable "state_bucket" {
  description = "Name of the OBS bucket created for the warden's state (WARDEN_STATE); bucket names are global: 3 to 63 lower-case letters, digits, dots and hyphens."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket))
    error_message = "state_bucket must be 3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit."
  }
}

variable "package_path" {
  description = "The zip built by deploy/functiongraph/package.sh (bootstrap at its root)."
  type        = string
  default     = "../../target/functiongraph/vpcep-warden.zip"
}

variable "allowed_domains" {
  description = "Account (domain) ids whose connections are approved; the entry service-whitelist also trusts each service's whitelist (WARDEN_ALLOWED_DOMAINS)."
  type        = list(string)
}

variable "service_ids" {
  description = "Endpoint services the approve job manages; empty means all of the project's (WARDEN_SERVICE_IDS)."
  type        = list(string)
  default     = []
}

variable "not_allowed" {
  description = "What to do with a pending connection from an account not allowed: leave or reject (WARDEN_NOT_ALLOWED)."
  type        = string
  default     = "leave"

  validation {
    condition     = contains(["leave", "reject"], var.not_allowed)
    error_message = "not_allowed is leave or reject."
  }
}

variable "smn_topic_urn" {
  description = "SMN topic the alerts are also published to, urn:smn:REGION:PROJECT:NAME; empty for none (WARDEN_SMN_TOPIC_URN)."
  type        = string
  default     = ""
}

variable "extra_settings" {
  description = "Further WARDEN_* settings (see the README's settings table), e.g. { WARDEN_GC_MIN_AGE_MINUTES = \"120\" }. Not for secrets."
  type        = map(string)
  default     = {}
}

variable "webhook_secret" {
  description = "HMAC secret of the webhook (WARDEN_WEBHOOK_SECRET); kept in the function's encrypted settings."
  type        = string
  sensitive   = true
}

variable "apig_instance_id" {
  description = "The dedicated API Gateway instance that serves the webhook."
  type        = string
}

variable "apig_group_id" {
  description = "The API group, in that instance, the webhook API is created in."
  type        = string
}

variable "memory_size" {
  description = "Memory of the function in MB."
  type        = number
  default     = 128
}

variable "timeout" {
  description = "Longest run of one invocation, in seconds (3 to 900)."
  type        = number
  default     = 120
}

variable "targets" {
  description = "WARDEN_TARGETS: the estates to look after, as the README's JSON list; empty for the region's project alone."
  type        = string
  default     = ""
}

variable "fan_out" {
  description = "Hand each target of `targets` a tick of its own (an asynchronous invocation of this function), instead of ticking every target in one invocation."
  type        = bool
  default     = false

  validation {
    condition     = !var.fan_out || var.targets != ""
    error_message = "fan_out needs targets."
  }
}
