# Terraform >= 1.5 and OpenTofu >= 1.6 read this configuration: it uses no syntax newer
# than 1.5 (no provider-defined functions, no ephemeral values, no cross-variable
# validation). Plain resources only, no registry modules: every object sreshow creates
# is named in this directory, so `sreshow down` and the orphan finder can account for it.
terraform {
  required_version = ">= 1.5.0"

  required_providers {
    # The AWS provider only. 5.61 has everything used here (EKS access entries and
    # upgrade policy, security groups on network load balancers, per-rule security group
    # resources); nothing used here changed in 6.x, so both majors are allowed.
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.61, < 7.0"
    }
  }
}

provider "aws" {
  region = var.region

  # Every resource that takes tags gets these; the orphan finder and the cost code
  # look resources up by these exact keys. Instances and volumes started by the node
  # group are tagged through its launch template (nodes.tf), which default_tags
  # does not reach.
  default_tags {
    tags = local.tags
  }
}

locals {
  tags = {
    "managed-by"         = "sreshow"
    "sreshow/owner"      = var.owner
    "sreshow/run-id"     = var.run_id
    "sreshow/expires-at" = var.expires_at
  }
}
