# ---------------------------------------------------------------------------
# ECS Fargate: smtp-front behind an NLB (TCP 25 and 587, client IP preserved),
# http-front behind an ALB (HTTPS), diameter-sidecar internal (Cloud Map DNS).
# ---------------------------------------------------------------------------

locals {
  fronts_enabled = var.create_fronts && var.create_network

  # Containers listen on unprivileged ports (they run as a non-root user).
  health_command = {
    smtp-front       = ["CMD", "/usr/local/bin/healthcheck", "tcp", "127.0.0.1:${var.smtp_container_port}"]
    http-front       = ["CMD", "/usr/local/bin/healthcheck", "http", "127.0.0.1:${var.http_container_port}", "/health"]
    diameter-sidecar = ["CMD", "/usr/local/bin/healthcheck", "http", "127.0.0.1:${var.sidecar_port}", "/health"]
  }

  service_env = {
    smtp-front       = { MMSC_SMTP_LISTEN = "0.0.0.0:${var.smtp_container_port}" }
    http-front       = { MMSC_HTTP_LISTEN = "0.0.0.0:${var.http_container_port}" }
    diameter-sidecar = { MMSC_SIDECAR_LISTEN = "0.0.0.0:${var.sidecar_port}" }
  }

  service_port = {
    smtp-front       = var.smtp_container_port
    http-front       = var.http_container_port
    diameter-sidecar = var.sidecar_port
  }

  service_image = {
    smtp-front       = var.smtp_front_image
    http-front       = var.http_front_image
    diameter-sidecar = var.diameter_sidecar_image
  }

  services = local.fronts_enabled ? {
    for k, v in var.services : k => v if local.service_image[k] != null
  } : {}
}

resource "aws_ecs_cluster" "this" {
  count = local.fronts_enabled ? 1 : 0

  name = var.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }

  configuration {
    execute_command_configuration {
      kms_key_id = local.kms_key_arn
      logging    = "OVERRIDE"
      log_configuration {
        cloud_watch_encryption_enabled = true
        cloud_watch_log_group_name     = aws_cloudwatch_log_group.ecs_exec[0].name
      }
    }
  }

  tags = local.tags
}

resource "aws_cloudwatch_log_group" "ecs_exec" {
  count = local.fronts_enabled ? 1 : 0

  name              = "/mmsc/${var.name}/ecs-exec"
  retention_in_days = var.log_retention_days
  kms_key_id        = local.kms_key_arn
  tags              = local.tags
}

resource "aws_cloudwatch_log_group" "service" {
  for_each = local.services

  name              = "/mmsc/${var.name}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = local.kms_key_arn
  tags              = local.tags
}

# --- roles ------------------------------------------------------------------

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# Pulls images and ships logs; separate from the task roles the code runs with.
resource "aws_iam_role" "execution" {
  count = local.fronts_enabled ? 1 : 0

  name               = "${var.name}-ecs-execution"
  description        = "ECS task execution (image pull, logs)"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "execution" {
  count = local.fronts_enabled ? 1 : 0

  role       = aws_iam_role.execution[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_iam_role" "task" {
  for_each = local.services

  name               = "${var.name}-task-${each.key}"
  description        = "MMSC ${each.key} task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "task" {
  for_each = local.services

  statement {
    sid       = "ReadConfig"
    actions   = ["s3:GetObject"]
    resources = [local.config_object]
  }

  statement {
    sid       = "Encryption"
    actions   = local.kms_actions
    resources = [local.kms_key_arn]
  }

  # smtp-front: store the raw PDU, queue an ingest job.
  dynamic "statement" {
    for_each = each.key == "smtp-front" ? [1] : []
    content {
      sid       = "StoreAndQueue"
      actions   = ["s3:PutObject", "sqs:SendMessage", "sqs:GetQueueAttributes"]
      resources = [local.content_objects, aws_sqs_queue.work["ingest"].arn]
    }
  }

  # http-front: MM7/MM1 submit (store + queue ingest), MM1 retrieval (read state and
  # content), the admin API (record a recipient's state; reports follow on the
  # originator's interface) and /health (queue depths).
  dynamic "statement" {
    for_each = each.key == "http-front" ? [1] : []
    content {
      sid       = "Content"
      actions   = ["s3:PutObject", "s3:GetObject"]
      resources = [local.content_objects]
    }
  }
  dynamic "statement" {
    for_each = each.key == "http-front" ? [1] : []
    content {
      sid       = "State"
      actions   = concat(local.table_read_actions, local.table_write_actions)
      resources = [aws_dynamodb_table.state.arn]
    }
  }
  dynamic "statement" {
    for_each = each.key == "http-front" ? [1] : []
    content {
      sid       = "Queues"
      actions   = ["sqs:SendMessage", "sqs:GetQueueAttributes"]
      resources = [for q in ["ingest", "mm4-out", "mm1-notify", "mm7-out"] : aws_sqs_queue.work[q].arn]
    }
  }
}

resource "aws_iam_role_policy" "task" {
  for_each = local.services

  name   = "mmsc-${each.key}"
  role   = aws_iam_role.task[each.key].id
  policy = data.aws_iam_policy_document.task[each.key].json
}

# --- security groups ----------------------------------------------------------

resource "aws_security_group" "service" {
  for_each = local.services

  name        = "${var.name}-${each.key}"
  description = "MMSC ${each.key} tasks"
  vpc_id      = aws_vpc.this[0].id
  tags        = local.tags
}

resource "aws_security_group" "sidecar" {
  count = local.sidecar_enabled && local.fronts_enabled ? 1 : 0

  name        = "${var.name}-diameter-sidecar-clients"
  description = "Marks the diameter-sidecar tasks for the functions' egress rule"
  vpc_id      = aws_vpc.this[0].id
  tags        = local.tags
}

resource "aws_vpc_security_group_egress_rule" "service_https" {
  for_each = local.services

  security_group_id = aws_security_group.service[each.key].id
  description       = "AWS APIs (S3/DynamoDB via gateway endpoints; SQS, ECR, logs, KMS via NAT)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "smtp_from_nlb" {
  count = contains(keys(local.services), "smtp-front") ? 1 : 0

  security_group_id            = aws_security_group.service["smtp-front"].id
  description                  = "SMTP from the NLB (client addresses preserved)"
  ip_protocol                  = "tcp"
  from_port                    = var.smtp_container_port
  to_port                      = var.smtp_container_port
  referenced_security_group_id = aws_security_group.nlb[0].id
}

resource "aws_vpc_security_group_ingress_rule" "http_from_alb" {
  count = contains(keys(local.services), "http-front") ? 1 : 0

  security_group_id            = aws_security_group.service["http-front"].id
  description                  = "HTTP from the ALB"
  ip_protocol                  = "tcp"
  from_port                    = var.http_container_port
  to_port                      = var.http_container_port
  referenced_security_group_id = aws_security_group.alb[0].id
}

resource "aws_vpc_security_group_ingress_rule" "sidecar_from_functions" {
  count = contains(keys(local.services), "diameter-sidecar") && var.create_functions ? 1 : 0

  security_group_id            = aws_security_group.sidecar[0].id
  description                  = "Charging requests from the functions"
  ip_protocol                  = "tcp"
  from_port                    = var.sidecar_port
  to_port                      = var.sidecar_port
  referenced_security_group_id = aws_security_group.functions[0].id
}

resource "aws_vpc_security_group_egress_rule" "sidecar_to_ocs" {
  for_each = contains(keys(local.services), "diameter-sidecar") ? toset(var.ocs_cidrs) : toset([])

  security_group_id = aws_security_group.service["diameter-sidecar"].id
  description       = "Diameter to the operator's OCS"
  ip_protocol       = "tcp"
  from_port         = 3868
  to_port           = 3868
  cidr_ipv4         = each.key
}

# --- load balancers ------------------------------------------------------------

resource "aws_security_group" "nlb" {
  count = contains(keys(local.services), "smtp-front") ? 1 : 0

  name        = "${var.name}-smtp-nlb"
  description = "SMTP NLB: TCP 25 and 587 from partner MMSCs"
  vpc_id      = aws_vpc.this[0].id
  tags        = local.tags
}

resource "aws_vpc_security_group_ingress_rule" "nlb" {
  for_each = contains(keys(local.services), "smtp-front") ? {
    for pair in setproduct(var.smtp_ingress_cidrs, [25, 587]) : "${pair[0]}:${pair[1]}" => { cidr = pair[0], port = pair[1] }
  } : {}

  security_group_id = aws_security_group.nlb[0].id
  description       = "SMTP from a partner network"
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = each.value.cidr
}

resource "aws_vpc_security_group_egress_rule" "nlb" {
  count = contains(keys(local.services), "smtp-front") ? 1 : 0

  security_group_id            = aws_security_group.nlb[0].id
  description                  = "To the smtp-front tasks"
  ip_protocol                  = "tcp"
  from_port                    = var.smtp_container_port
  to_port                      = var.smtp_container_port
  referenced_security_group_id = aws_security_group.service["smtp-front"].id
}

# Fixed inbound addresses too: partners point their MX/route at these.
resource "aws_eip" "nlb" {
  #checkov:skip=CKV2_AWS_19:These Elastic IPs are the NLB's fixed inbound addresses, not instance addresses.
  count = contains(keys(local.services), "smtp-front") ? length(local.azs) : 0

  domain = "vpc"
  tags   = merge(local.tags, { Name = "${var.name}-smtp-${local.azs[count.index]}" })
}

resource "aws_lb" "smtp" {
  #checkov:skip=CKV_AWS_91:Access logs need an operator-owned log bucket with an ELB delivery policy: set var.access_logs_bucket.
  count = contains(keys(local.services), "smtp-front") ? 1 : 0

  name                             = "${var.name}-smtp"
  load_balancer_type               = "network"
  internal                         = false
  security_groups                  = [aws_security_group.nlb[0].id]
  enable_cross_zone_load_balancing = true
  enable_deletion_protection       = var.load_balancer_deletion_protection

  dynamic "subnet_mapping" {
    for_each = range(length(local.azs))
    content {
      subnet_id     = aws_subnet.public[subnet_mapping.value].id
      allocation_id = aws_eip.nlb[subnet_mapping.value].id
    }
  }

  dynamic "access_logs" {
    for_each = var.access_logs_bucket != null ? [1] : []
    content {
      bucket  = var.access_logs_bucket
      prefix  = "${var.name}/smtp"
      enabled = true
    }
  }

  tags = local.tags
}

resource "aws_lb_target_group" "smtp" {
  count = contains(keys(local.services), "smtp-front") ? 1 : 0

  name                 = "${var.name}-smtp"
  port                 = var.smtp_container_port
  protocol             = "TCP"
  target_type          = "ip"
  vpc_id               = aws_vpc.this[0].id
  preserve_client_ip   = true
  deregistration_delay = 120

  health_check {
    protocol            = "TCP"
    interval            = 10
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }

  tags = local.tags
}

resource "aws_lb_listener" "smtp" {
  #checkov:skip=CKV_AWS_2:SMTP is TCP passed through to the front, which offers STARTTLS itself; there is no HTTP here.
  for_each = contains(keys(local.services), "smtp-front") ? toset(["25", "587"]) : toset([])

  load_balancer_arn = aws_lb.smtp[0].arn
  port              = tonumber(each.key)
  protocol          = "TCP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.smtp[0].arn
  }

  tags = local.tags
}

resource "aws_security_group" "alb" {
  count = contains(keys(local.services), "http-front") ? 1 : 0

  name        = "${var.name}-https-alb"
  description = "HTTPS ALB: MM7 from VASPs, MM1 from the packet core"
  vpc_id      = aws_vpc.this[0].id
  tags        = local.tags
}

resource "aws_vpc_security_group_ingress_rule" "alb" {
  for_each = contains(keys(local.services), "http-front") ? toset(var.http_ingress_cidrs) : toset([])

  security_group_id = aws_security_group.alb[0].id
  description       = "HTTPS from an allowed network"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.key
}

resource "aws_vpc_security_group_egress_rule" "alb" {
  count = contains(keys(local.services), "http-front") ? 1 : 0

  security_group_id            = aws_security_group.alb[0].id
  description                  = "To the http-front tasks"
  ip_protocol                  = "tcp"
  from_port                    = var.http_container_port
  to_port                      = var.http_container_port
  referenced_security_group_id = aws_security_group.service["http-front"].id
}

resource "aws_lb" "http" {
  #checkov:skip=CKV_AWS_91:Access logs need an operator-owned log bucket with an ELB delivery policy: set var.access_logs_bucket.
  #checkov:skip=CKV2_AWS_28:WAF is optional (var.waf_web_acl_arn): MM7 VASPs authenticate and come from allowed networks; MM1 comes from the operator's packet core.
  #checkov:skip=CKV2_AWS_76:Same as CKV2_AWS_28: the WAF ACL (with the Log4j rule set if wanted) is the operator's, attached through var.waf_web_acl_arn.
  count = contains(keys(local.services), "http-front") ? 1 : 0

  name                       = "${var.name}-https"
  load_balancer_type         = "application"
  internal                   = false
  security_groups            = [aws_security_group.alb[0].id]
  subnets                    = aws_subnet.public[*].id
  drop_invalid_header_fields = true
  enable_deletion_protection = var.load_balancer_deletion_protection
  idle_timeout               = 120

  dynamic "access_logs" {
    for_each = var.access_logs_bucket != null ? [1] : []
    content {
      bucket  = var.access_logs_bucket
      prefix  = "${var.name}/https"
      enabled = true
    }
  }

  tags = local.tags
}

resource "aws_wafv2_web_acl_association" "http" {
  count = contains(keys(local.services), "http-front") && var.waf_web_acl_arn != null ? 1 : 0

  resource_arn = aws_lb.http[0].arn
  web_acl_arn  = var.waf_web_acl_arn
}

resource "aws_lb_target_group" "http" {
  #checkov:skip=CKV_AWS_378:TLS ends at the ALB; the hop to the task stays inside the VPC's private subnets and the task's security group admits only the ALB.
  count = contains(keys(local.services), "http-front") ? 1 : 0

  name                 = "${var.name}-http"
  port                 = var.http_container_port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = aws_vpc.this[0].id
  deregistration_delay = 30

  health_check {
    path                = "/health"
    matcher             = "200"
    interval            = 15
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = local.tags
}

resource "aws_lb_listener" "https" {
  count = contains(keys(local.services), "http-front") ? 1 : 0

  load_balancer_arn = aws_lb.http[0].arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.http[0].arn
  }

  tags = local.tags
}

# --- service discovery -------------------------------------------------------

resource "aws_service_discovery_private_dns_namespace" "this" {
  count = local.sidecar_enabled && local.fronts_enabled ? 1 : 0

  name        = "${var.name}.internal"
  description = "MMSC internal services"
  vpc         = aws_vpc.this[0].id
  tags        = local.tags
}

resource "aws_service_discovery_service" "sidecar" {
  count = local.sidecar_enabled && local.fronts_enabled ? 1 : 0

  name = "diameter-sidecar"

  dns_config {
    namespace_id   = aws_service_discovery_private_dns_namespace.this[0].id
    routing_policy = "MULTIVALUE"
    dns_records {
      type = "A"
      ttl  = 10
    }
  }

  tags = local.tags
}

# --- tasks and services ----------------------------------------------------------

resource "aws_ecs_task_definition" "this" {
  for_each = local.services

  family                   = "${var.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = each.value.cpu
  memory                   = each.value.memory
  execution_role_arn       = aws_iam_role.execution[0].arn
  task_role_arn            = aws_iam_role.task[each.key].arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.fronts_cpu_architecture
  }

  container_definitions = jsonencode([{
    name                   = each.key
    image                  = local.service_image[each.key]
    essential              = true
    user                   = "10001:10001"
    readonlyRootFilesystem = true
    stopTimeout            = 60
    portMappings = [{
      containerPort = local.service_port[each.key]
      protocol      = "tcp"
    }]
    environment = [
      for k, v in merge(local.common_env, local.service_env[each.key], { MMSC_SERVICE = each.key }) : { name = k, value = v }
    ]
    healthCheck = {
      command     = local.health_command[each.key]
      interval    = 15
      timeout     = 5
      retries     = 3
      startPeriod = 20
    }
    linuxParameters = {
      initProcessEnabled = true
      capabilities       = { drop = ["ALL"] }
    }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.service[each.key].name
        awslogs-region        = local.region
        awslogs-stream-prefix = each.key
      }
    }
  }])

  tags = local.tags
}

resource "aws_ecs_service" "this" {
  for_each = local.services

  name                               = each.key
  cluster                            = aws_ecs_cluster.this[0].id
  task_definition                    = aws_ecs_task_definition.this[each.key].arn
  desired_count                      = each.value.desired_count
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  health_check_grace_period_seconds  = each.key == "diameter-sidecar" ? null : 30
  propagate_tags                     = "SERVICE"
  enable_execute_command             = false

  network_configuration {
    subnets          = aws_subnet.private[*].id
    assign_public_ip = false
    security_groups = concat(
      [aws_security_group.service[each.key].id],
      each.key == "diameter-sidecar" ? [aws_security_group.sidecar[0].id] : [],
    )
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  dynamic "load_balancer" {
    for_each = each.key == "smtp-front" ? [1] : []
    content {
      target_group_arn = aws_lb_target_group.smtp[0].arn
      container_name   = each.key
      container_port   = var.smtp_container_port
    }
  }

  dynamic "load_balancer" {
    for_each = each.key == "http-front" ? [1] : []
    content {
      target_group_arn = aws_lb_target_group.http[0].arn
      container_name   = each.key
      container_port   = var.http_container_port
    }
  }

  dynamic "service_registries" {
    for_each = each.key == "diameter-sidecar" ? [1] : []
    content {
      registry_arn = aws_service_discovery_service.sidecar[0].arn
    }
  }

  depends_on = [aws_lb_listener.smtp, aws_lb_listener.https, aws_iam_role_policy.task]

  tags = local.tags
}
