variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "eu-west-1"
}

variable "name" {
  description = "Resource name prefix."
  type        = string
  default     = "mmsc"
}

variable "lambda_artifacts_dir" {
  description = "Directory with <function>/bootstrap.zip (cargo lambda's target/lambda)."
  type        = string
  default     = "../../../../target/lambda"
}

variable "config_file" {
  description = "The MMSC TOML configuration to upload (mmsc config check it first)."
  type        = string
  default     = null
}

variable "smtp_front_image" {
  description = "smtp-front image URI."
  type        = string
}

variable "http_front_image" {
  description = "http-front image URI."
  type        = string
}

variable "diameter_sidecar_image" {
  description = "diameter-sidecar image URI; null for no online charging."
  type        = string
  default     = null
}

variable "certificate_arn" {
  description = "ACM certificate of http_hostname."
  type        = string
}

variable "http_hostname" {
  description = "Public name of the MM7/MM1 endpoint."
  type        = string
}

variable "smtp_ingress_cidrs" {
  description = "Partner MMSC networks allowed to connect to SMTP."
  type        = list(string)
}

variable "http_ingress_cidrs" {
  description = "VASP and packet-core networks allowed to connect to HTTPS."
  type        = list(string)
}

variable "ocs_cidrs" {
  description = "The operator's OCS networks (Diameter)."
  type        = list(string)
  default     = []
}

variable "alarm_actions" {
  description = "Extra SNS topics for the alarms."
  type        = list(string)
  default     = []
}
