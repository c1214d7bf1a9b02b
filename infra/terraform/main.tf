# The MMSC on AWS: content in S3, state in DynamoDB, jobs in SQS, handlers on Lambda,
# fronts on ECS Fargate behind an NLB (SMTP) and an ALB (HTTPS), fixed egress through
# NAT gateways with Elastic IPs. See README.md for the environment each part reads.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  tags = merge({ "mmsc:deployment" = var.name }, var.tags)

  # Work queues, one per function. `expire` is fed by the schedule.
  queue_names = ["ingest", "mm4-out", "mm1-notify", "mm7-out", "expire"]

  # What each function may do beyond consuming its own queue and using the table.
  # Least privilege: a function may send only to the queues it feeds, and write to
  # the bucket only where it builds PDUs. Reports to an originator (delivery report on
  # a permanent failure or on expiry) go out on the originator's interface, so the
  # delivering functions may feed mm4-out, mm7-out and mm1-notify (mm1-notify also
  # re-queues its own re-notifications; mm7-out reports to MM7 originators on its own
  # queue). They read the content they deliver or report on. No function sends
  # to ingest (only the fronts do), and none deletes objects (the lifecycle does).
  # expire also feeds its own queue: a run that leaves work queues the next one.
  function_access = {
    ingest     = { send_to = ["mm4-out", "mm1-notify", "mm7-out"], bucket_read = true, bucket_write = true }
    mm4-out    = { send_to = ["mm4-out", "mm1-notify", "mm7-out"], bucket_read = true, bucket_write = true }
    mm1-notify = { send_to = ["mm4-out", "mm1-notify", "mm7-out"], bucket_read = true, bucket_write = true }
    mm7-out    = { send_to = ["mm4-out", "mm1-notify", "mm7-out"], bucket_read = true, bucket_write = true }
    expire     = { send_to = ["mm4-out", "mm1-notify", "mm7-out", "expire"], bucket_read = true, bucket_write = true }
  }

  functions = var.create_functions ? var.functions : {}

  kms_key_arn = var.create_kms_key ? aws_kms_key.this[0].arn : var.kms_key_arn

  # The environment every function and container reads (README.md, "Environment").
  common_env = merge(
    {
      MMSC_AWS_BUCKET       = aws_s3_bucket.content.id
      MMSC_AWS_TABLE        = aws_dynamodb_table.state.name
      MMSC_AWS_QUEUE_PREFIX = "${var.name}-"
      # Queue URLs are <this><MMSC_AWS_QUEUE_PREFIX><queue>: no GetQueueUrl at cold start.
      MMSC_AWS_QUEUE_URL_PREFIX = trimsuffix(aws_sqs_queue.work["ingest"].url, "${var.name}-ingest")
      MMSC_AWS_KMS_KEY_ID       = local.kms_key_arn
      MMSC_CONFIG_S3            = "s3://${aws_s3_bucket.content.id}/${var.config_object_key}"
      MMSC_LOG_FORMAT           = "json"
      RUST_LOG                  = var.rust_log
    },
    local.sidecar_enabled ? { MMSC_DIAMETER_SIDECAR_URL = "http://diameter-sidecar.${var.name}.internal:${var.sidecar_port}" } : {},
  )

  sidecar_enabled = (var.create_fronts && var.create_network && var.diameter_sidecar_image != null
  && contains(keys(var.services), "diameter-sidecar"))
}

# ---------------------------------------------------------------------------
# One customer managed key for data at rest.
# ---------------------------------------------------------------------------

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_111:Key policy: "*" as resource means this key only, and write access is limited to this account's principals.
  #checkov:skip=CKV_AWS_356:Key policy: "*" as resource means this key only (a key policy cannot name the key it is attached to).
  #checkov:skip=CKV_AWS_109:Key policy: the account root statement is AWS's default that keeps the key manageable through IAM; the service statements carry source-account/encryption-context conditions.
  count = var.create_kms_key ? 1 : 0

  statement {
    sid       = "AccountAdministration"
    actions   = ["kms:*"]
    resources = ["*"] # in a key policy "*" means this key
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchLogs"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
    }
  }

  statement {
    sid       = "AlarmsAndSchedulerPublish"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "scheduler.amazonaws.com", "sqs.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "this" {
  count = var.create_kms_key ? 1 : 0

  description             = "${var.name}: MMSC content, state, queues and logs"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms[0].json
  tags                    = local.tags
}

resource "aws_kms_alias" "this" {
  count = var.create_kms_key ? 1 : 0

  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this[0].key_id
}
