# The seed's node group: t3.small SPOT instances, 1 to 3 of them, in the private
# subnets, moved between those bounds by the cluster autoscaler.

locals {
  # What the launch template stamps on what the node group starts: default_tags do
  # not reach instances, volumes or network interfaces an Auto Scaling group creates.
  node_tags = merge(local.tags, { Name = "${var.name}-node" })
  # The tags the cluster autoscaler's --node-group-auto-discovery looks for; its IAM
  # policy (iam.tf) only lets it scale a group carrying the second one. EKS adds both
  # to a managed node group's Auto Scaling group itself; they are stated here so the
  # autoscaler does not depend on that.
  autoscaler_discovery_tags = {
    "k8s.io/cluster-autoscaler/enabled"     = "true"
    "k8s.io/cluster-autoscaler/${var.name}" = "owned"
  }
}

resource "aws_launch_template" "node" {
  name_prefix            = "${var.name}-node-"
  description            = "Nodes of EKS cluster ${var.name} (sreshow)"
  update_default_version = true

  # IMDSv2 only, and a hop limit of 1 so pods (one network hop further) cannot
  # reach the node role's credentials: the autoscaler gets its own through IRSA.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  block_device_mappings {
    device_name = "/dev/xvda" # the root device of EKS's AL2023 images
    ebs {
      volume_size           = var.node_disk_size_gib
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }

  # No security group here: EKS then gives the nodes the cluster security group, the
  # one the control plane already talks to; load_balancer.tf opens the app's NodePort
  # on it to the load balancer only. No key pair: no SSH.

  tag_specifications {
    resource_type = "instance"
    tags          = local.node_tags
  }

  tag_specifications {
    resource_type = "volume"
    tags          = local.node_tags
  }

  tag_specifications {
    resource_type = "network-interface"
    tags          = local.node_tags
  }
}

resource "aws_eks_node_group" "main" {
  cluster_name    = aws_eks_cluster.main.name
  node_group_name = "${var.name}-nodes"
  node_role_arn   = aws_iam_role.node.arn
  # Private subnets only: the nodes have no public addresses and reach the internet
  # through the NAT gateway.
  subnet_ids     = aws_subnet.private[*].id
  ami_type       = "AL2023_x86_64_STANDARD" # x86: t3 instances
  capacity_type  = "SPOT"
  instance_types = [var.node_instance_type]

  scaling_config {
    min_size     = var.node_group_size.min
    desired_size = var.node_group_size.desired
    max_size     = var.node_group_size.max
  }

  update_config {
    max_unavailable = 1
  }

  launch_template {
    id      = aws_launch_template.node.id
    version = aws_launch_template.node.latest_version
  }

  lifecycle {
    # The cluster autoscaler changes the desired size; a later apply must not undo it.
    ignore_changes = [scaling_config[0].desired_size]
  }

  # Nodes need their role's policies to join and the NAT route to pull images; on
  # destroy, both stay until the nodes are gone.
  depends_on = [
    aws_iam_role_policy_attachment.node,
    aws_route.private_nat,
    aws_route_table_association.private,
  ]
}

# The managed node group's Auto Scaling group is created by EKS, outside default_tags:
# tag it for the orphan finder and for the autoscaler's discovery. Instances get their
# tags from the launch template, so nothing propagates at launch.
resource "aws_autoscaling_group_tag" "node_group" {
  for_each = merge(local.tags, local.autoscaler_discovery_tags)

  autoscaling_group_name = local.node_group_asg_name

  tag {
    key                 = each.key
    value               = each.value
    propagate_at_launch = false
  }
}
