output "smtp_endpoint" {
  description = "Where partner MMSCs send MM4: the NLB's DNS name (TCP 25 and 587). Null without the SMTP front."
  value       = try(aws_lb.smtp[0].dns_name, null)
}

output "smtp_ingress_ips" {
  description = "The NLB's fixed inbound addresses (one Elastic IP per availability zone) for partners' routing and allowlists."
  value       = aws_eip.nlb[*].public_ip
}

output "egress_ips" {
  description = "Fixed egress addresses (the NAT gateways' Elastic IPs): give them to partner MMSCs, VASPs and push proxy gateways to allow."
  value       = aws_eip.nat[*].public_ip
}

output "https_endpoint" {
  description = "The ALB's DNS name; point http_hostname's DNS record at it."
  value       = try(aws_lb.http[0].dns_name, null)
}

output "mm7_url" {
  description = "The MM7 endpoint VASPs submit to."
  value       = try("https://${coalesce(var.http_hostname, aws_lb.http[0].dns_name)}/mm7", null)
}

output "mm1_url" {
  description = "The MM1 endpoint for handsets (MMSC URL in the APN settings)."
  value       = try("https://${coalesce(var.http_hostname, aws_lb.http[0].dns_name)}/mm1", null)
}

output "queue_urls" {
  description = "Work queue URLs by queue name."
  value       = { for q, r in aws_sqs_queue.work : q => r.url }
}

output "dead_letter_queue_urls" {
  description = "Dead-letter queue URLs by work queue name."
  value       = { for q, r in aws_sqs_queue.dlq : q => r.url }
}

output "bucket" {
  description = "Content bucket name (MMSC_AWS_BUCKET)."
  value       = aws_s3_bucket.content.id
}

output "table" {
  description = "DynamoDB state table name (MMSC_AWS_TABLE)."
  value       = aws_dynamodb_table.state.name
}

output "config_s3_uri" {
  description = "Where the functions and containers read the TOML configuration (MMSC_CONFIG_S3)."
  value       = local.common_env["MMSC_CONFIG_S3"]
}

output "environment" {
  description = "The environment every function and container gets (README.md, \"Environment\"); handy for `mmsc serve --backend aws` against the deployed resources."
  value       = local.common_env
}

output "function_names" {
  description = "Lambda function names by function."
  value       = { for k, f in aws_lambda_function.this : k => f.function_name }
}

output "kms_key_arn" {
  description = "The KMS key that encrypts content, state, queues and logs."
  value       = local.kms_key_arn
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify; subscribe your on-call to it."
  value       = aws_sns_topic.alarms.arn
}

output "ecs_cluster_name" {
  description = "ECS cluster of the fronts."
  value       = try(aws_ecs_cluster.this[0].name, null)
}
