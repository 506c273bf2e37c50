# What the adapter reads after apply: kubeconfig, the overlay's placeholders, the
# app's address, and the ids the orphan finder and `status` name.

output "cluster_name" {
  description = "EKS cluster name (kubeconfig, `sreshow eks-token`, the autoscaler's discovery tag)."
  value       = aws_eks_cluster.main.name
}

output "cluster_endpoint" {
  description = "HTTPS URL of the Kubernetes API server."
  value       = aws_eks_cluster.main.endpoint
}

output "cluster_certificate_authority" {
  description = "Base64 PEM of the cluster's CA, as kubeconfig's certificate-authority-data takes it."
  value       = aws_eks_cluster.main.certificate_authority[0].data
}

output "cluster_version" {
  description = "Kubernetes minor version of the control plane."
  value       = aws_eks_cluster.main.version
}

output "region" {
  description = "AWS region of every resource here."
  value       = var.region
}

output "vpc_id" {
  description = "The VPC holding everything."
  value       = aws_vpc.main.id
}

output "public_subnet_ids" {
  description = "Subnets of the load balancer and the NAT gateway."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "Subnets of the nodes and the control plane's network interfaces."
  value       = aws_subnet.private[*].id
}

output "nat_gateway_id" {
  description = "The one NAT gateway."
  value       = aws_nat_gateway.main.id
}

output "node_group_name" {
  description = "EKS managed node group name."
  value       = aws_eks_node_group.main.node_group_name
}

output "node_group_autoscaling_group_name" {
  description = "Auto Scaling group EKS made for the node group (what the cluster autoscaler scales)."
  value       = local.node_group_asg_name
}

output "node_security_group_id" {
  description = "The cluster security group the nodes carry."
  value       = local.node_security_group_id
}

output "load_balancer_dns_name" {
  description = "DNS name of the app's network load balancer."
  value       = aws_lb.app.dns_name
}

output "app_node_port" {
  description = "NodePort the load balancer forwards to; the app Service in manifests/overlays/eks must use it."
  value       = var.app_node_port
}

output "app_url" {
  description = "Where the app answers once deployed (the load balancer's port 80)."
  value       = "http://${aws_lb.app.dns_name}"
}

output "cluster_autoscaler_role_arn" {
  description = "IAM role for the cluster autoscaler's ServiceAccount (its eks.amazonaws.com/role-arn annotation)."
  value       = aws_iam_role.cluster_autoscaler.arn
}

output "oidc_provider_arn" {
  description = "IAM OIDC provider of the cluster, for IRSA roles."
  value       = aws_iam_openid_connect_provider.eks.arn
}

output "admin_principal_arn" {
  description = "The principal given cluster-admin through an access entry."
  value       = aws_eks_access_policy_association.admin.principal_arn
}
