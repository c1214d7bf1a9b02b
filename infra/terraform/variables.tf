# ---------------------------------------------------------------------------
# Naming and switches
# ---------------------------------------------------------------------------

variable "name" {
  description = "Prefix of every resource name (bucket, table, queues, functions, services)."
  type        = string
  default     = "mmsc"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,24}$", var.name))
    error_message = "name must be 2-25 characters of lowercase letters, digits and '-', starting with a letter."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "create_network" {
  description = "Create the VPC, subnets, NAT gateways and their Elastic IPs. When false, the Lambda functions run outside a VPC and the fronts cannot be created (LocalStack)."
  type        = bool
  default     = true
}

variable "create_functions" {
  description = "Create the Lambda functions, their event source mappings and the expire schedule."
  type        = bool
  default     = true
}

variable "create_fronts" {
  description = "Create the ECS cluster, the Fargate services (smtp-front, http-front, diameter-sidecar) and the load balancers. Needs create_network."
  type        = bool
  default     = true
}

variable "create_kms_key" {
  description = "Create a customer managed KMS key for S3, DynamoDB, SQS, SNS and CloudWatch Logs. When false, kms_key_arn must be set."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "An existing KMS key to encrypt with, used when create_kms_key is false. Its policy must allow CloudWatch Logs in this region."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

# ---------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------

variable "vpc_cidr" {
  description = "CIDR block of the VPC. Public subnets take the first /24s of it, private subnets the /20s from the middle."
  type        = string
  default     = "10.60.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 16
    error_message = "vpc_cidr must be a valid IPv4 CIDR of /16 or larger."
  }
}

variable "az_count" {
  description = "Number of availability zones when availability_zones is empty. Each gets a public subnet, a private subnet and a NAT gateway with its own Elastic IP (the fixed egress addresses partners allow)."
  type        = number
  default     = 2

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 3
    error_message = "az_count must be 2 or 3."
  }
}

variable "availability_zones" {
  description = "Zone names to use (e.g. [\"eu-west-1a\", \"eu-west-1b\"]). Empty: the region's zones a, b (and c when az_count is 3)."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.availability_zones) == 0 || (length(var.availability_zones) >= 2 && length(var.availability_zones) <= 3)
    error_message = "availability_zones must be empty or list 2 or 3 zone names."
  }
}

variable "flow_log_retention_days" {
  description = "Retention of the VPC flow log group, in days."
  type        = number
  default     = 365
}

# ---------------------------------------------------------------------------
# Storage
# ---------------------------------------------------------------------------

variable "content_expiration_days" {
  description = "S3 lifecycle: objects (raw PDUs, built PDUs) are deleted this many days after creation. Keep it at least the message expiry plus mmsc.retention_secs."
  type        = number
  default     = 40

  validation {
    condition     = var.content_expiration_days >= 1 && var.content_expiration_days <= 3650
    error_message = "content_expiration_days must be between 1 and 3650."
  }
}

variable "content_prefixes" {
  description = "Key prefixes of the objects the MMSC writes (raw PDUs under in/, built PDUs under out/); the lifecycle expires objects under them after content_expiration_days. Keys elsewhere (the config under config/) never expire."
  type        = list(string)
  default     = ["in/", "out/"]

  validation {
    condition     = length(var.content_prefixes) > 0 && alltrue([for p in var.content_prefixes : endswith(p, "/") && !startswith(p, "config/")])
    error_message = "content_prefixes must be non-empty prefixes ending in '/', none of them config/."
  }
}

variable "bucket_versioning" {
  description = "Enable S3 versioning on the content bucket (noncurrent versions expire after noncurrent_version_expiration_days)."
  type        = bool
  default     = true
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which noncurrent object versions are deleted (when versioning is on)."
  type        = number
  default     = 7

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be at least 1."
  }
}

variable "bucket_force_destroy" {
  description = "Allow terraform destroy to delete a non-empty content bucket (tests, LocalStack)."
  type        = bool
  default     = false
}

variable "table_deletion_protection" {
  description = "DynamoDB deletion protection on the state table."
  type        = bool
  default     = true
}

variable "config_file" {
  description = "Path of the MMSC TOML configuration to upload to s3://<bucket>/<config_object_key>. When null, upload it yourself (the functions and fronts read it at start)."
  type        = string
  default     = null
}

variable "config_object_key" {
  description = "Object key of the TOML configuration in the content bucket (MMSC_CONFIG_S3)."
  type        = string
  default     = "config/mmsc.toml"

  validation {
    condition     = length(var.config_object_key) > 0 && !startswith(var.config_object_key, "/")
    error_message = "config_object_key must be a non-empty key without a leading '/'."
  }
}

# ---------------------------------------------------------------------------
# Queues
# ---------------------------------------------------------------------------

variable "max_receive_count" {
  description = "Receives of one message before SQS moves it to the queue's dead-letter queue."
  type        = number
  default     = 5

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000
    error_message = "max_receive_count must be between 1 and 1000."
  }
}

variable "restrict_dlq_sources" {
  description = "Set a redrive allow policy on each dead-letter queue so only its own work queue can dead-letter into it. The moto server does not report this attribute back (Terraform then waits forever): set false there."
  type        = bool
  default     = true
}

variable "message_retention_seconds" {
  description = "How long a job stays on a work queue (dead-letter queues keep 14 days)."
  type        = number
  default     = 345600

  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600
    error_message = "message_retention_seconds must be between 60 and 1209600."
  }
}

# ---------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------

variable "lambda_artifacts_dir" {
  description = "Directory holding the pre-built function zips as <function>/bootstrap.zip (cargo lambda build --release --arm64 --output-format zip writes target/lambda/<function>/bootstrap.zip)."
  type        = string
  default     = null
}

variable "functions" {
  description = "Per-function settings, keyed by function name (= queue name = binary name). memory_mb: Lambda memory; timeout_s: Lambda timeout (the queue's visibility timeout is 6x this); batch_size and batching_window_s: SQS event source batching; max_concurrency: the event source's maximum_concurrency."
  type = map(object({
    memory_mb         = optional(number, 256)
    timeout_s         = optional(number, 30)
    batch_size        = optional(number, 10)
    batching_window_s = optional(number, 0)
    max_concurrency   = optional(number, 10)
  }))
  default = {
    ingest     = {}
    mm4-out    = { timeout_s = 120, batch_size = 5 }
    mm1-notify = {}
    mm7-out    = { timeout_s = 60, batch_size = 5 }
    expire     = { timeout_s = 300, batch_size = 1, max_concurrency = 2 }
  }

  validation {
    condition     = alltrue([for k in keys(var.functions) : contains(["ingest", "mm4-out", "mm1-notify", "mm7-out", "expire"], k)])
    error_message = "functions keys must be among ingest, mm4-out, mm1-notify, mm7-out, expire."
  }
  validation {
    condition     = alltrue([for f in values(var.functions) : f.max_concurrency >= 2 && f.max_concurrency <= 1000])
    error_message = "max_concurrency must be between 2 and 1000 (the SQS event source limit)."
  }
  validation {
    condition     = alltrue([for f in values(var.functions) : f.timeout_s >= 1 && f.timeout_s <= 900 && f.memory_mb >= 128 && f.memory_mb <= 10240])
    error_message = "timeout_s must be 1-900 and memory_mb 128-10240."
  }
  validation {
    condition     = alltrue([for f in values(var.functions) : f.batch_size >= 1 && f.batch_size <= 10000 && (f.batch_size <= 10 || f.batching_window_s >= 1)])
    error_message = "batch_size must be 1-10000, and above 10 needs batching_window_s >= 1."
  }
}

variable "lambda_architecture" {
  description = "Instruction set of the function zips: arm64 (Graviton, cheaper per GB-s) or x86_64."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "lambda_architecture must be arm64 or x86_64."
  }
}

variable "expire_schedule" {
  description = "EventBridge Scheduler expression that puts an expire job on the expire queue."
  type        = string
  default     = "rate(5 minutes)"

  validation {
    condition     = can(regex("^(rate|cron|at)\\(.+\\)$", var.expire_schedule))
    error_message = "expire_schedule must be a rate(...), cron(...) or at(...) expression."
  }
}

variable "expire_job" {
  description = "Body of the message the schedule puts on the expire queue (a Job as JSON)."
  type        = string
  default     = "{\"job\":\"expire\"}"

  validation {
    condition     = can(jsondecode(var.expire_job))
    error_message = "expire_job must be JSON."
  }
}

variable "rust_log" {
  description = "RUST_LOG filter for every function and container."
  type        = string
  default     = "info"
}

variable "log_retention_days" {
  description = "Retention of the function and container log groups, in days."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, ..., 365, ..., 3653)."
  }
}

# ---------------------------------------------------------------------------
# Fronts (ECS Fargate)
# ---------------------------------------------------------------------------

variable "smtp_front_image" {
  description = "Container image of smtp-front (containers/smtp-front/Dockerfile), e.g. <account>.dkr.ecr.<region>.amazonaws.com/mmsc/smtp-front:<tag>."
  type        = string
  default     = null
}

variable "http_front_image" {
  description = "Container image of http-front (containers/http-front/Dockerfile)."
  type        = string
  default     = null
}

variable "diameter_sidecar_image" {
  description = "Container image of diameter-sidecar (containers/diameter-sidecar/Dockerfile). When null, no sidecar service is created (charging mode none)."
  type        = string
  default     = null
}

variable "smtp_ingress_cidrs" {
  description = "Source networks allowed to reach SMTP (TCP 25 and 587): the partner MMSCs' egress ranges. The front also checks each partner's allowed networks from the config."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.smtp_ingress_cidrs : can(cidrhost(c, 0))])
    error_message = "smtp_ingress_cidrs must be IPv4 CIDR blocks."
  }
}

variable "http_ingress_cidrs" {
  description = "Source networks allowed to reach HTTPS (MM7 from VASPs, MM1 from the operator's packet core)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.http_ingress_cidrs : can(cidrhost(c, 0))])
    error_message = "http_ingress_cidrs must be IPv4 CIDR blocks."
  }
}

variable "certificate_arn" {
  description = "ACM certificate for the ALB's HTTPS listener (the MM7/MM1 host name)."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN."
  }
}

variable "ssl_policy" {
  description = "TLS policy of the ALB's HTTPS listener."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"
}

variable "smtp_container_port" {
  description = "Port smtp-front listens on inside its container (non-root: above 1024). The NLB maps TCP 25 and 587 to it."
  type        = number
  default     = 2525

  validation {
    condition     = var.smtp_container_port > 1024 && var.smtp_container_port < 65536
    error_message = "smtp_container_port must be 1025-65535 (the container runs as non-root)."
  }
}

variable "http_container_port" {
  description = "Port http-front listens on inside its container."
  type        = number
  default     = 8080

  validation {
    condition     = var.http_container_port > 1024 && var.http_container_port < 65536
    error_message = "http_container_port must be 1025-65535 (the container runs as non-root)."
  }
}

variable "sidecar_port" {
  description = "Port of the diameter-sidecar's HTTP/JSON API (reached by the functions through Cloud Map DNS)."
  type        = number
  default     = 8090

  validation {
    condition     = var.sidecar_port > 1024 && var.sidecar_port < 65536
    error_message = "sidecar_port must be 1025-65535."
  }
}

variable "ocs_cidrs" {
  description = "Networks of the operator's online charging system (Diameter, TCP 3868) the sidecar may reach."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.ocs_cidrs : can(cidrhost(c, 0))])
    error_message = "ocs_cidrs must be IPv4 CIDR blocks."
  }
}

variable "services" {
  description = "Fargate sizing per service: cpu units, memory MiB and desired task count."
  type = map(object({
    cpu           = optional(number, 512)
    memory        = optional(number, 1024)
    desired_count = optional(number, 2)
  }))
  default = {
    smtp-front       = {}
    http-front       = {}
    diameter-sidecar = { cpu = 256, memory = 512 }
  }

  validation {
    condition     = alltrue([for k in keys(var.services) : contains(["smtp-front", "http-front", "diameter-sidecar"], k)])
    error_message = "services keys must be among smtp-front, http-front, diameter-sidecar."
  }
}

variable "load_balancer_deletion_protection" {
  description = "Deletion protection on the NLB and the ALB."
  type        = bool
  default     = true
}

variable "access_logs_bucket" {
  description = "Existing S3 bucket for NLB/ALB access logs (its policy must allow ELB log delivery). Null disables access logs."
  type        = string
  default     = null
}

# ---------------------------------------------------------------------------
# Alarms
# ---------------------------------------------------------------------------

variable "alarm_actions" {
  description = "SNS topic ARNs notified by the alarms (in addition to the module's own topic)."
  type        = list(string)
  default     = []
}

variable "queue_age_alarm_seconds" {
  description = "Alarm when the oldest job on a work queue is older than this."
  type        = number
  default     = 600

  validation {
    condition     = var.queue_age_alarm_seconds >= 60
    error_message = "queue_age_alarm_seconds must be at least 60."
  }
}

variable "http_hostname" {
  description = "Public host name of the HTTPS front (the certificate's name, pointed at the ALB by your DNS). Used in the mm7_url and mm1_url outputs; the ALB's DNS name when null."
  type        = string
  default     = null
}

variable "waf_web_acl_arn" {
  description = "WAFv2 web ACL to associate with the ALB. Null: none (MM7 clients authenticate per VASP and come from allowed networks)."
  type        = string
  default     = null
}

variable "fronts_cpu_architecture" {
  description = "CPU architecture of the front images: ARM64 (Graviton) or X86_64."
  type        = string
  default     = "ARM64"

  validation {
    condition     = contains(["ARM64", "X86_64"], var.fronts_cpu_architecture)
    error_message = "fronts_cpu_architecture must be ARM64 or X86_64."
  }
}
