# The app's way in, as the seed draws it: an internet-facing load balancer in the
# public subnets forwarding port 80 to the app's NodePort on the private nodes.
#
# Terraform owns it rather than a Kubernetes Service of type LoadBalancer: a load
# balancer Kubernetes creates is not in this state, so `terraform destroy` does not know
# it, and if the cluster goes first (a failed `down`, a deleted cluster) nothing is left
# to delete it: it stays, billed, and its network interfaces block deleting the VPC.
# A network load balancer: layer 4 is all a plain HTTP demo needs, and it keeps the
# client's address.

locals {
  # EKS gives the nodes its cluster security group (nodes.tf).
  node_security_group_id = aws_eks_cluster.main.vpc_config[0].cluster_security_group_id
}

resource "aws_security_group" "load_balancer" {
  name        = "${var.name}-app-lb"
  description = "sreshow app load balancer: port 80 from the allowed clients, out to the app NodePort only"
  vpc_id      = aws_vpc.main.id
  tags        = { Name = "${var.name}-app-lb" }
}

resource "aws_vpc_security_group_ingress_rule" "load_balancer_http" {
  for_each = toset(var.app_allowed_cidrs)

  security_group_id = aws_security_group.load_balancer.id
  description       = "HTTP to the app from an allowed client"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
}

resource "aws_vpc_security_group_egress_rule" "load_balancer_to_nodes" {
  security_group_id            = aws_security_group.load_balancer.id
  description                  = "Requests and health checks to the app NodePort on the nodes"
  referenced_security_group_id = local.node_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = var.app_node_port
  to_port                      = var.app_node_port
}

# With a security group on the load balancer, targets can admit it by group even though
# it keeps the client's address; no other source reaches the NodePort.
resource "aws_vpc_security_group_ingress_rule" "nodes_from_load_balancer" {
  security_group_id            = local.node_security_group_id
  description                  = "The app NodePort, from its load balancer only"
  referenced_security_group_id = aws_security_group.load_balancer.id
  ip_protocol                  = "tcp"
  from_port                    = var.app_node_port
  to_port                      = var.app_node_port
}

resource "aws_lb" "app" {
  #checkov:skip=CKV_AWS_91:access logs need an S3 bucket with its own policy, lifecycle and emptying before `down` can delete it; a demo's requests are already counted by Prometheus
  #checkov:skip=CKV2_AWS_20:a network load balancer forwards TCP and cannot redirect HTTP; HTTPS would need a certificate for a domain a throwaway demo does not have
  #checkov:skip=CKV_AWS_150:deletion protection would make `sreshow down` fail; leaving nothing behind is the point of this stack
  name                             = "${var.name}-app"
  load_balancer_type               = "network"
  internal                         = false
  subnets                          = aws_subnet.public[*].id
  security_groups                  = [aws_security_group.load_balancer.id]
  enable_cross_zone_load_balancing = true
  enable_deletion_protection       = false

  # An internet-facing load balancer needs the public subnets' route out.
  depends_on = [aws_route.public_internet, aws_route_table_association.public]
}

resource "aws_lb_target_group" "app" {
  name        = "${var.name}-app"
  target_type = "instance"
  protocol    = "TCP"
  port        = var.app_node_port
  vpc_id      = aws_vpc.main.id
  # A node leaving (scale-in, spot interruption) drains for 30 s, not the default 300.
  deregistration_delay = 30

  # Any node answers for the Service (externalTrafficPolicy Cluster), so the check asks
  # the app itself through the NodePort.
  health_check {
    protocol            = "HTTP"
    port                = "traffic-port"
    path                = "/health"
    matcher             = "200"
    interval            = 10
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }
}

resource "aws_lb_listener" "app_http" {
  load_balancer_arn = aws_lb.app.arn
  port              = 80
  protocol          = "TCP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app.arn
  }
}

# Every node the group starts, the autoscaler's included, is registered as a target.
resource "aws_autoscaling_attachment" "app" {
  #checkov:skip=CKV2_AWS_15:the Auto Scaling group belongs to the EKS managed node group, which replaces broken nodes itself; with load balancer health checks an app outage (a demo scenario) would fail every node at once and the group would terminate them all
  autoscaling_group_name = local.node_group_asg_name
  lb_target_group_arn    = aws_lb_target_group.app.arn
}
