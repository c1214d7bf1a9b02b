# ---------------------------------------------------------------------------
# IAM: one role per function and per service, each limited to the resources
# it uses (no "*" action on a "*" resource anywhere).
# ---------------------------------------------------------------------------

locals {
  table_read_actions = [
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
  ]
  table_write_actions = [
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:TransactWriteItems",
    "dynamodb:TransactGetItems",
  ]
  kms_actions     = ["kms:Decrypt", "kms:GenerateDataKey"]
  config_object   = "${aws_s3_bucket.content.arn}/${var.config_object_key}"
  content_objects = "${aws_s3_bucket.content.arn}/*"
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "function" {
  for_each = local.functions

  name               = "${var.name}-fn-${each.key}"
  description        = "MMSC ${each.key} function"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "function" {
  for_each = local.functions

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function[each.key].arn}:*"]
  }

  statement {
    sid = "ConsumeOwnQueue"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
    ]
    resources = [aws_sqs_queue.work[each.key].arn]
  }

  dynamic "statement" {
    for_each = length(local.function_access[each.key].send_to) > 0 ? [1] : []
    content {
      sid       = "SendJobs"
      actions   = ["sqs:SendMessage", "sqs:GetQueueAttributes"]
      resources = [for q in local.function_access[each.key].send_to : aws_sqs_queue.work[q].arn]
    }
  }

  statement {
    sid       = "State"
    actions   = concat(local.table_read_actions, local.table_write_actions)
    resources = [aws_dynamodb_table.state.arn]
  }

  statement {
    sid       = "ReadConfig"
    actions   = ["s3:GetObject"]
    resources = [local.config_object]
  }

  dynamic "statement" {
    for_each = local.function_access[each.key].bucket_read ? [1] : []
    content {
      sid       = "ReadContent"
      actions   = ["s3:GetObject"]
      resources = [local.content_objects]
    }
  }

  dynamic "statement" {
    for_each = local.function_access[each.key].bucket_write ? [1] : []
    content {
      sid       = "WriteContent"
      actions   = ["s3:PutObject"]
      resources = [local.content_objects]
    }
  }

  statement {
    sid       = "Encryption"
    actions   = local.kms_actions
    resources = [local.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "function" {
  for_each = local.functions

  name   = "mmsc-${each.key}"
  role   = aws_iam_role.function[each.key].id
  policy = data.aws_iam_policy_document.function[each.key].json
}

# ENI management for functions in the VPC (AWS managed; its EC2 actions cannot be
# scoped to resources).
resource "aws_iam_role_policy_attachment" "function_vpc" {
  for_each = var.create_network ? local.functions : {}

  role       = aws_iam_role.function[each.key].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

# X-Ray segments (AWS managed; PutTraceSegments has no resource type).
resource "aws_iam_role_policy_attachment" "function_xray" {
  for_each = local.functions

  role       = aws_iam_role.function[each.key].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AWSXrayWriteOnlyAccess"
}

# ---------------------------------------------------------------------------
# EventBridge Scheduler -> expire queue
# ---------------------------------------------------------------------------

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  count = contains(keys(local.functions), "expire") ? 1 : 0

  name               = "${var.name}-expire-schedule"
  description        = "Lets the expire schedule put jobs on the expire queue"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.work["expire"].arn, aws_sqs_queue.dlq["expire"].arn]
  }
  statement {
    actions   = local.kms_actions
    resources = [local.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  count = contains(keys(local.functions), "expire") ? 1 : 0

  name   = "send-expire-jobs"
  role   = aws_iam_role.scheduler[0].id
  policy = data.aws_iam_policy_document.scheduler.json
}
