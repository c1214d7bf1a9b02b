# A production-shaped deployment: every part of the module, two availability zones.
#
#   cargo lambda build --release --arm64 --output-format zip   # target/lambda/<fn>/bootstrap.zip
#   terraform init && terraform apply -var-file=prod.tfvars

provider "aws" {
  region = var.region

  default_tags {
    tags = { project = "serverless-mmsc" }
  }
}

module "mmsc" {
  source = "../../"

  name                 = var.name
  lambda_artifacts_dir = var.lambda_artifacts_dir
  config_file          = var.config_file

  smtp_front_image       = var.smtp_front_image
  http_front_image       = var.http_front_image
  diameter_sidecar_image = var.diameter_sidecar_image

  certificate_arn    = var.certificate_arn
  http_hostname      = var.http_hostname
  smtp_ingress_cidrs = var.smtp_ingress_cidrs
  http_ingress_cidrs = var.http_ingress_cidrs
  ocs_cidrs          = var.ocs_cidrs

  az_count                = 2
  content_expiration_days = 40
  log_retention_days      = 365
  alarm_actions           = var.alarm_actions

  functions = {
    ingest     = { memory_mb = 256, max_concurrency = 20 }
    mm4-out    = { timeout_s = 120, batch_size = 5, max_concurrency = 20 }
    mm1-notify = {}
    mm7-out    = { timeout_s = 60, batch_size = 5 }
    expire     = { timeout_s = 300, batch_size = 1, max_concurrency = 2 }
  }

  tags = { environment = "production" }
}
