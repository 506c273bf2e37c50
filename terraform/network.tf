# The seed's network: one VPC, a public and a private /20 in each of two zones, one
# NAT gateway (the seed's cost choice: one zone's outage cuts the nodes' egress, which
# a demo accepts for $32 a month less).

data "aws_availability_zones" "available" {
  #checkov:skip=CKV_AWS_394:the provider returns zone names sorted and the first two are taken; a zone AWS adds later gets a later letter and sorts after them, and this stack lives for a demo, not for years
  state = "available"

  # Local and Wavelength zones cannot hold an EKS control plane's subnets.
  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }

  # The zones EKS refuses a control plane in (its user guide, "Create a cluster"):
  # zone names map to different zones per account, so these are excluded by id.
  exclude_zone_ids = ["use1-az3", "usw1-az2", "cac1-az3"]
}

locals {
  vpc_cidr             = "10.0.0.0/16"
  availability_zones   = slice(data.aws_availability_zones.available.names, 0, 2)
  public_subnet_cidrs  = ["10.0.0.0/20", "10.0.16.0/20"]
  private_subnet_cidrs = ["10.0.32.0/20", "10.0.48.0/20"]
  # Lets the AWS load balancer controller (or a Service of type LoadBalancer) find
  # the subnets, should anyone add one; sreshow's own load balancer is in
  # load_balancer.tf.
  cluster_subnet_tag = { "kubernetes.io/cluster/${var.name}" = "shared" }
}

resource "aws_vpc" "main" {
  cidr_block = local.vpc_cidr
  # EKS's private endpoint and the nodes' registration need both.
  enable_dns_support   = true
  enable_dns_hostnames = true

  #checkov:skip=CKV2_AWS_11:VPC flow logs bill per GB ingested into CloudWatch or S3 and would outlive `sreshow down` unless kept in this state too; a 30-minute demo stack has no traffic worth auditing
  tags = { Name = var.name }
}

# Nothing uses the default security group; with no rules it lets nothing in or out.
resource "aws_default_security_group" "main" {
  vpc_id = aws_vpc.main.id
  tags   = { Name = "${var.name}-default-unused" }
}

resource "aws_internet_gateway" "main" {
  vpc_id = aws_vpc.main.id
  tags   = { Name = var.name }
}

resource "aws_subnet" "public" {
  count = 2

  vpc_id            = aws_vpc.main.id
  availability_zone = local.availability_zones[count.index]
  cidr_block        = local.public_subnet_cidrs[count.index]
  # Only the NAT gateway (Elastic IP) and the load balancer live here: nothing gets
  # a public address by accident.
  map_public_ip_on_launch = false

  tags = merge(local.cluster_subnet_tag, {
    Name                     = "${var.name}-public-${local.availability_zones[count.index]}"
    "kubernetes.io/role/elb" = "1"
  })
}

resource "aws_subnet" "private" {
  count = 2

  vpc_id                  = aws_vpc.main.id
  availability_zone       = local.availability_zones[count.index]
  cidr_block              = local.private_subnet_cidrs[count.index]
  map_public_ip_on_launch = false

  tags = merge(local.cluster_subnet_tag, {
    Name                              = "${var.name}-private-${local.availability_zones[count.index]}"
    "kubernetes.io/role/internal-elb" = "1"
  })
}

resource "aws_eip" "nat" {
  domain = "vpc"
  tags   = { Name = "${var.name}-nat" }

  depends_on = [aws_internet_gateway.main]
}

resource "aws_nat_gateway" "main" {
  allocation_id = aws_eip.nat.id
  subnet_id     = aws_subnet.public[0].id
  tags          = { Name = var.name }

  depends_on = [aws_internet_gateway.main]
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id
  tags   = { Name = "${var.name}-public" }
}

resource "aws_route" "public_internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.main.id
}

resource "aws_route_table_association" "public" {
  count = 2

  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.main.id
  tags   = { Name = "${var.name}-private" }
}

# Nodes pull images and reach AWS APIs through the one NAT gateway.
resource "aws_route" "private_nat" {
  route_table_id         = aws_route_table.private.id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.main.id
}

resource "aws_route_table_association" "private" {
  count = 2

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private.id
}
