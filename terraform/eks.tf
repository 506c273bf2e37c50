# The EKS control plane, who may administer it, and the add-on the HPA needs.

# Terraform owns the log group so that `down` deletes it: left to EKS, it would be
# created untagged, kept forever and billed for storage after the cluster is gone.
resource "aws_cloudwatch_log_group" "cluster" {
  count = length(var.control_plane_log_types) > 0 ? 1 : 0

  #checkov:skip=CKV_AWS_338:a demo's control plane logs are kept days, not a year; retention is var.control_plane_log_retention_days (1 by default) so nothing outlives the demo for long
  #checkov:skip=CKV_AWS_158:a KMS key costs $1/month and lingers 7 days pending deletion after `down`; CloudWatch already encrypts log data at rest with its own keys
  name              = "/aws/eks/${var.name}/cluster"
  retention_in_days = var.control_plane_log_retention_days
}

resource "aws_eks_cluster" "main" {
  #checkov:skip=CKV_AWS_39:the public endpoint is how `sreshow` on the user's machine reaches the API (there is no VPN or bastion); it is open only to var.api_allowed_cidrs and nodes use the private endpoint
  #checkov:skip=CKV_AWS_37:control plane logs bill per GB ingested into CloudWatch and a 30-minute demo reads none; var.control_plane_log_types turns them on, into the Terraform-owned log group above
  #checkov:skip=CKV_AWS_38:checkov cannot see var.api_allowed_cidrs (it has no default: the adapter passes the caller's address), and the variable's validation refuses 0.0.0.0/0
  #checkov:skip=CKV_AWS_58:no customer-managed KMS key ($1/month, and 7 days pending deletion after `down`): EKS already envelope-encrypts all Kubernetes API data, secrets included, with an AWS-owned key on 1.28 and later
  name                      = var.name
  version                   = var.cluster_version
  role_arn                  = aws_iam_role.cluster.arn
  enabled_cluster_log_types = var.control_plane_log_types

  vpc_config {
    # The control plane's network interfaces go into the private subnets only.
    subnet_ids              = aws_subnet.private[*].id
    endpoint_private_access = true
    endpoint_public_access  = true
    public_access_cidrs     = var.api_allowed_cidrs
  }

  access_config {
    authentication_mode = "API"
    # Off: access comes from the explicit entry below, for var.admin_principal_arn.
    # With both, the creator's automatic entry would collide with ours (the same
    # principal) and the apply would fail; and who may administer the cluster does
    # not silently depend on whose credentials ran the apply.
    bootstrap_cluster_creator_admin_permissions = false
  }

  # STANDARD: a version past standard support is upgraded instead of moving to
  # extended support, which bills the control plane at six times the price.
  upgrade_policy {
    support_type = "STANDARD"
  }

  # The role's policy must outlive the cluster, or EKS cannot delete its network
  # interfaces on destroy; the log group must exist before EKS would create its own.
  depends_on = [
    aws_iam_role_policy_attachment.cluster,
    aws_cloudwatch_log_group.cluster,
  ]
}

resource "aws_eks_access_entry" "admin" {
  cluster_name  = aws_eks_cluster.main.name
  principal_arn = var.admin_principal_arn
  type          = "STANDARD"
}

resource "aws_eks_access_policy_association" "admin" {
  cluster_name  = aws_eks_cluster.main.name
  principal_arn = aws_eks_access_entry.admin.principal_arn
  policy_arn    = "arn:${data.aws_partition.current.partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"

  access_scope {
    type = "cluster"
  }
}

# metrics-server as EKS's community add-on: EKS picks the build for the cluster's
# version and `down` removes it with the cluster; the HPA reads CPU and memory from it.
resource "aws_eks_addon" "metrics_server" {
  cluster_name                = aws_eks_cluster.main.name
  addon_name                  = "metrics-server"
  resolve_conflicts_on_create = "OVERWRITE"

  # The add-on becomes ACTIVE only once its pods run, which needs nodes.
  depends_on = [aws_eks_node_group.main]
}
