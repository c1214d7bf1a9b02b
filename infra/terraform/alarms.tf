# ---------------------------------------------------------------------------
# Alarms: anything on a dead-letter queue, and work queues falling behind.
# ---------------------------------------------------------------------------

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = local.kms_key_arn
  tags              = local.tags
}

locals {
  alarm_actions = concat([aws_sns_topic.alarms.arn], var.alarm_actions)
}

resource "aws_cloudwatch_metric_alarm" "dlq_depth" {
  for_each = toset(local.queue_names)

  alarm_name          = "${var.name}-${each.key}-dlq-not-empty"
  alarm_description   = "Jobs on ${var.name}-${each.key}-dlq: they failed ${var.max_receive_count} times. Inspect, fix, then redrive to ${var.name}-${each.key}."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dlq[each.key].name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "oldest_message" {
  for_each = toset(local.queue_names)

  alarm_name          = "${var.name}-${each.key}-backlog-age"
  alarm_description   = "The oldest job on ${var.name}-${each.key} is older than ${var.queue_age_alarm_seconds} s: the ${each.key} function is failing, throttled or absent."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.work[each.key].name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  threshold           = var.queue_age_alarm_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "dlq_oldest_message" {
  for_each = toset(local.queue_names)

  alarm_name          = "${var.name}-${each.key}-dlq-age"
  alarm_description   = "A job has been on ${var.name}-${each.key}-dlq for more than 3 days; it is deleted after 14."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.dlq[each.key].name }
  statistic           = "Maximum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = 259200
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  tags                = local.tags
}
