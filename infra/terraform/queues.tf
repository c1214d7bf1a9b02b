# ---------------------------------------------------------------------------
# SQS: one work queue per function, each with a dead-letter queue and redrive.
# Jobs are small JSON (keys, never content).
# ---------------------------------------------------------------------------

locals {
  # SQS must keep a received job invisible for longer than the function may run;
  # AWS recommends six times the function timeout.
  queue_visibility_timeout = {
    for q in local.queue_names : q => min(43200, 6 * try(var.functions[q].timeout_s, 30))
  }
}

resource "aws_sqs_queue" "dlq" {
  for_each = toset(local.queue_names)

  name                              = "${var.name}-${each.key}-dlq"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = local.kms_key_arn
  kms_data_key_reuse_period_seconds = 3600

  # Only its own work queue may dead-letter here (the ARN is spelled out: the work
  # queue refers to this one, so it cannot be referenced back).
  redrive_allow_policy = var.restrict_dlq_sources ? jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = ["arn:${local.partition}:sqs:${local.region}:${local.account_id}:${var.name}-${each.key}"]
  }) : null

  tags = merge(local.tags, { "mmsc:queue" = "${each.key}-dlq" })
}

resource "aws_sqs_queue" "work" {
  for_each = toset(local.queue_names)

  name                              = "${var.name}-${each.key}"
  visibility_timeout_seconds        = local.queue_visibility_timeout[each.key]
  message_retention_seconds         = var.message_retention_seconds
  receive_wait_time_seconds         = 20
  max_message_size                  = 262144
  kms_master_key_id                 = local.kms_key_arn
  kms_data_key_reuse_period_seconds = 3600

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq[each.key].arn
    maxReceiveCount     = var.max_receive_count
  })

  tags = merge(local.tags, { "mmsc:queue" = each.key })
}
