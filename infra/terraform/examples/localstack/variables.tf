variable "endpoint" {
  description = "LocalStack (or moto server) edge endpoint."
  type        = string
  default     = "http://localhost:4566"
}

variable "name" {
  description = "Resource name prefix."
  type        = string
  default     = "mmsc-local"
}

variable "create_functions" {
  description = "Also deploy the Lambda functions (LocalStack with Docker only)."
  type        = bool
  default     = false
}

variable "lambda_artifacts_dir" {
  description = "Directory with <function>/bootstrap.zip (only with create_functions)."
  type        = string
  default     = "../../../../target/lambda"
}

variable "config_file" {
  description = "The MMSC TOML configuration to upload; null to upload it yourself."
  type        = string
  default     = null
}

variable "restrict_dlq_sources" {
  description = "Redrive allow policies on the dead-letter queues (true on LocalStack; false on the moto server, which does not report them back)."
  type        = bool
  default     = false
}
