# ---------------------------------------------------------------------------
# Lambda: one function per queue (provided.al2023, pre-built bootstrap.zip),
# triggered by its queue with partial batch responses.
# ---------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "function" {
  for_each = local.functions

  name              = "/aws/lambda/${var.name}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = local.kms_key_arn
  tags              = local.tags
}

resource "aws_security_group" "functions" {
  count = var.create_functions && var.create_network ? 1 : 0

  name        = "${var.name}-functions"
  description = "MMSC Lambda functions: outbound only (AWS APIs, partner MMSCs, VASPs, push proxy, sidecar)"
  vpc_id      = aws_vpc.this[0].id
  tags        = local.tags
}

resource "aws_vpc_security_group_egress_rule" "functions" {
  for_each = var.create_functions && var.create_network ? {
    https      = { port = 443, why = "AWS APIs not behind a gateway endpoint, HTTPS MM7 deliver URLs, PAP push proxies" }
    http       = { port = 80, why = "plain HTTP MM7 deliver URLs and PAP push proxies" }
    smtp       = { port = 25, why = "MM4 to partner MMSCs" }
    submission = { port = 587, why = "MM4 to partner MMSCs on the submission port" }
    smtps      = { port = 465, why = "MM4 to partner MMSCs over implicit TLS" }
  } : {}

  security_group_id = aws_security_group.functions[0].id
  description       = each.value.why
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "functions_to_sidecar" {
  count = var.create_functions && var.create_network && local.sidecar_enabled ? 1 : 0

  security_group_id            = aws_security_group.functions[0].id
  description                  = "Charging requests to the diameter-sidecar"
  ip_protocol                  = "tcp"
  from_port                    = var.sidecar_port
  to_port                      = var.sidecar_port
  referenced_security_group_id = aws_security_group.sidecar[0].id
}

resource "aws_lambda_function" "this" {
  for_each = local.functions
  #checkov:skip=CKV_AWS_116:SQS-triggered: failed jobs go to the source queue's dead-letter queue (redrive policy); a function DLQ only applies to asynchronous invocation, which nothing uses.
  #checkov:skip=CKV_AWS_115:Concurrency is bounded per event source by scaling_config.maximum_concurrency; reserved concurrency would carve capacity out of the account pool (new accounts have 10) for no gain.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile the operator owns; the zips are built by the project's CI and pinned by source_code_hash.

  function_name = "${var.name}-${each.key}"
  description   = "MMSC ${each.key}: handles jobs from the ${var.name}-${each.key} queue"
  role          = aws_iam_role.function[each.key].arn

  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.lambda_architecture]
  filename         = "${var.lambda_artifacts_dir}/${each.key}/bootstrap.zip"
  source_code_hash = filebase64sha256("${var.lambda_artifacts_dir}/${each.key}/bootstrap.zip")

  memory_size = each.value.memory_mb
  timeout     = each.value.timeout_s
  kms_key_arn = local.kms_key_arn

  environment {
    variables = merge(local.common_env, { MMSC_FUNCTION = each.key })
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.function[each.key].name
  }

  dynamic "vpc_config" {
    for_each = var.create_network ? [1] : []
    content {
      subnet_ids         = aws_subnet.private[*].id
      security_group_ids = [aws_security_group.functions[0].id]
    }
  }

  tags = merge(local.tags, { "mmsc:function" = each.key })

  depends_on = [
    aws_iam_role_policy.function,
    aws_iam_role_policy_attachment.function_vpc,
    aws_iam_role_policy_attachment.function_xray,
  ]
}

resource "aws_lambda_event_source_mapping" "this" {
  for_each = local.functions

  event_source_arn                   = aws_sqs_queue.work[each.key].arn
  function_name                      = aws_lambda_function.this[each.key].arn
  batch_size                         = each.value.batch_size
  maximum_batching_window_in_seconds = each.value.batching_window_s
  function_response_types            = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = each.value.max_concurrency
  }

  tags = local.tags
}

# ---------------------------------------------------------------------------
# The expire schedule puts one job on the expire queue (so expire is triggered
# like every other function, with retries and a dead-letter queue).
# ---------------------------------------------------------------------------

resource "aws_scheduler_schedule" "expire" {
  count = contains(keys(local.functions), "expire") ? 1 : 0

  name                         = "${var.name}-expire"
  description                  = "Puts an expire job on ${var.name}-expire"
  schedule_expression          = var.expire_schedule
  schedule_expression_timezone = "UTC"
  kms_key_arn                  = local.kms_key_arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_sqs_queue.work["expire"].arn
    role_arn = aws_iam_role.scheduler[0].arn
    input    = var.expire_job

    retry_policy {
      maximum_event_age_in_seconds = 3600
      maximum_retry_attempts       = 10
    }

    dead_letter_config {
      arn = aws_sqs_queue.dlq["expire"].arn
    }
  }
}
