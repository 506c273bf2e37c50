# Everything the adapter passes in. Each value is checked here, at plan time, so a
# typo fails in seconds instead of half-way through a 15-minute apply.

variable "region" {
  description = "AWS region to build in, e.g. eu-west-1."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1 or us-east-1."
  }
}

variable "name" {
  description = "Name of the cluster and prefix of every resource name (IAM roles, load balancer, target group)."
  type        = string
  default     = "sreshow"

  validation {
    # 28 characters: "<name>-cluster-autoscaler" must fit IAM's 64 and "<name>-app"
    # the load balancer's and target group's 32.
    condition     = can(regex("^[a-z][a-z0-9-]{0,26}[a-z0-9]$", var.name))
    error_message = "name must be 2-28 characters of lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen (it names DNS-visible and IAM resources)."
  }
}

variable "cluster_version" {
  description = "Kubernetes minor version of the EKS cluster (the seed's 1.28 is out of support)."
  type        = string
  default     = "1.35"

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.cluster_version))
    error_message = "cluster_version must be a Kubernetes minor version such as \"1.35\" (no patch number: EKS picks it)."
  }
}

variable "run_id" {
  description = "Identifier of this sreshow run, written to the sreshow/run-id tag."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", var.run_id))
    error_message = "run_id must be 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit."
  }
}

variable "owner" {
  description = "Who started the stack (e.g. the caller's IAM ARN or user name), written to the sreshow/owner tag."
  type        = string

  validation {
    # AWS tag values: letters, digits, spaces and _ . : / = + - @, at most 256.
    condition     = can(regex("^[\\p{L}\\p{N}\\p{Z}_.:/=+@-]{1,256}$", var.owner))
    error_message = "owner must be 1-256 characters allowed in an AWS tag value (letters, digits, spaces and _ . : / = + - @)."
  }
}

variable "expires_at" {
  description = "When the stack should be gone (RFC 3339, e.g. 2026-12-05T12:45:00Z), or empty for no expiry; written to the sreshow/expires-at tag."
  type        = string
  default     = ""

  validation {
    # formatdate accepts exactly RFC 3339 timestamps and fails on anything else.
    condition     = var.expires_at == "" || can(formatdate("YYYY", var.expires_at))
    error_message = "expires_at must be an RFC 3339 timestamp such as 2026-12-05T12:45:00Z, or empty."
  }
}

variable "admin_principal_arn" {
  description = "IAM user or role ARN that gets cluster-admin through an EKS access entry (the caller, from STS GetCallerIdentity)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(user|role)/.+$", var.admin_principal_arn))
    error_message = "admin_principal_arn must be an IAM user or role ARN (arn:aws:iam::123456789012:role/NAME); for an assumed-role session (arn:aws:sts::...:assumed-role/ROLE/SESSION) pass the role's ARN instead."
  }
}

variable "api_allowed_cidrs" {
  description = "CIDR blocks allowed to reach the cluster's public API endpoint (the adapter passes the caller's address)."
  type        = list(string)

  validation {
    condition     = length(var.api_allowed_cidrs) > 0 && alltrue([for cidr in var.api_allowed_cidrs : can(cidrhost(cidr, 0)) && can(regex("^[0-9.]+/[0-9]+$", cidr))])
    error_message = "api_allowed_cidrs must list at least one IPv4 CIDR block such as 203.0.113.7/32."
  }

  validation {
    condition     = !contains(var.api_allowed_cidrs, "0.0.0.0/0")
    error_message = "api_allowed_cidrs must not contain 0.0.0.0/0: the Kubernetes API would be open to the whole internet; pass your own address, such as 203.0.113.7/32."
  }
}

variable "app_allowed_cidrs" {
  description = "CIDR blocks allowed to reach the app's load balancer on port 80."
  type        = list(string)

  validation {
    condition     = length(var.app_allowed_cidrs) > 0 && alltrue([for cidr in var.app_allowed_cidrs : can(cidrhost(cidr, 0)) && can(regex("^[0-9.]+/[0-9]+$", cidr))])
    error_message = "app_allowed_cidrs must list at least one IPv4 CIDR block such as 203.0.113.7/32."
  }
}

variable "node_instance_type" {
  description = "EC2 instance type of the nodes."
  type        = string
  default     = "t3.small"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.node_instance_type))
    error_message = "node_instance_type must be an EC2 instance type such as t3.small."
  }
}

variable "node_group_size" {
  description = "Node count bounds of the managed node group; the cluster autoscaler moves the desired count between min and max."
  # One object so the three numbers can be checked against each other: Terraform 1.5
  # validations cannot refer to other variables.
  type = object({
    min     = number
    desired = number
    max     = number
  })
  default = {
    min     = 1
    desired = 2
    max     = 3
  }

  validation {
    condition = (
      var.node_group_size.min >= 0
      && var.node_group_size.max >= 1
      && var.node_group_size.min <= var.node_group_size.desired
      && var.node_group_size.desired <= var.node_group_size.max
      && floor(var.node_group_size.min) == var.node_group_size.min
      && floor(var.node_group_size.desired) == var.node_group_size.desired
      && floor(var.node_group_size.max) == var.node_group_size.max
    )
    error_message = "node_group_size must be whole numbers with 0 <= min <= desired <= max and max >= 1."
  }
}

variable "node_disk_size_gib" {
  description = "Root volume size of each node, in GiB."
  type        = number
  default     = 20

  validation {
    condition     = var.node_disk_size_gib >= 20 && var.node_disk_size_gib <= 200
    error_message = "node_disk_size_gib must be between 20 and 200."
  }
}

variable "app_node_port" {
  description = "NodePort of the app's Service (manifests/overlays/eks); the load balancer forwards port 80 to it."
  type        = number
  default     = 30080

  validation {
    condition     = var.app_node_port >= 30000 && var.app_node_port <= 32767 && floor(var.app_node_port) == var.app_node_port
    error_message = "app_node_port must be a whole number in Kubernetes' NodePort range 30000-32767."
  }
}

variable "control_plane_log_types" {
  description = "EKS control plane log types sent to CloudWatch Logs; empty by default (billed per GB, and a demo reads none)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for t in var.control_plane_log_types : contains(["api", "audit", "authenticator", "controllerManager", "scheduler"], t)])
    error_message = "control_plane_log_types may only hold api, audit, authenticator, controllerManager and scheduler."
  }
}

variable "control_plane_log_retention_days" {
  description = "Days CloudWatch keeps control plane logs when control_plane_log_types is not empty."
  type        = number
  default     = 1

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365], var.control_plane_log_retention_days)
    error_message = "control_plane_log_retention_days must be one of CloudWatch's values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180 or 365."
  }
}

variable "oidc_thumbprints" {
  description = "Thumbprints of the OIDC issuer's CA. IAM no longer uses them for EKS issuers (it trusts their public CA), but older provider versions require one."
  type        = list(string)
  # The root CA of EKS's OIDC issuers, as published since 2019. Fixed rather than
  # computed with the tls provider: IAM ignores it for EKS, and a second provider
  # would be one more download for nothing.
  default = ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"]

  validation {
    condition     = length(var.oidc_thumbprints) > 0 && alltrue([for t in var.oidc_thumbprints : can(regex("^[0-9a-f]{40}$", t))])
    error_message = "oidc_thumbprints must list at least one 40-character lowercase hex SHA-1 thumbprint."
  }
}
