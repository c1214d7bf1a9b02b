# The data plane only (S3, DynamoDB, SQS with DLQs, KMS, alarms) on LocalStack or the
# moto server, for `mmsc serve --backend aws` on a laptop:
#
#   localstack start -d                      # or: moto_server -H 127.0.0.1 -p 4566
#   tflocal init && tflocal apply -auto-approve   # (plain terraform works too)
#   eval "$(terraform output -raw env_exports)"
#
# tflocal (pip install terraform-local) writes its own endpoint override; the provider
# block below already points every service at var.endpoint, so plain `terraform`
# works against LocalStack and moto alike.

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  s3_use_path_style           = true

  endpoints {
    cloudwatch = var.endpoint
    dynamodb   = var.endpoint
    iam        = var.endpoint
    kms        = var.endpoint
    lambda     = var.endpoint
    logs       = var.endpoint
    s3         = var.endpoint
    scheduler  = var.endpoint
    sns        = var.endpoint
    sqs        = var.endpoint
    sts        = var.endpoint
  }
}

module "mmsc" {
  source = "../../"

  name = var.name

  # No VPC, no ECS, no load balancers: LocalStack's community edition and moto
  # cannot run them usefully, and `mmsc serve --backend aws` is the fronts.
  create_network   = false
  create_fronts    = false
  create_functions = var.create_functions

  # Lambda on LocalStack runs the same zips (needs Docker for LocalStack).
  lambda_artifacts_dir = var.lambda_artifacts_dir
  config_file          = var.config_file

  # moto does not echo RedriveAllowPolicy back; LocalStack does.
  restrict_dlq_sources = var.restrict_dlq_sources

  bucket_force_destroy      = true
  table_deletion_protection = false
}

output "env_exports" {
  description = "Shell exports for `mmsc serve --backend aws` against this endpoint."
  value = join("\n", concat(
    ["export AWS_ENDPOINT_URL=${var.endpoint} AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test"],
    [for k, v in module.mmsc.environment : "export ${k}='${v}'"],
  ))
}

output "queue_urls" {
  description = "Work queue URLs."
  value       = module.mmsc.queue_urls
}

output "bucket" {
  description = "Content bucket."
  value       = module.mmsc.bucket
}

output "table" {
  description = "State table."
  value       = module.mmsc.table
}
