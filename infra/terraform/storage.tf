# ---------------------------------------------------------------------------
# S3: raw PDUs, built PDUs and the TOML configuration.
# ---------------------------------------------------------------------------

resource "aws_s3_bucket" "content" {
  #checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery choice of the operator; content is transient (expires with the message) and the source of truth for undelivered messages is the partner's retry.
  #checkov:skip=CKV_AWS_18:Server access logs would log every PDU read and write (millions per day); data events are available through CloudTrail when an operator wants them.
  #checkov:skip=CKV2_AWS_62:No consumer of S3 event notifications: the fronts queue a job after each write themselves.
  bucket_prefix = "${var.name}-content-"
  force_destroy = var.bucket_force_destroy
  tags          = local.tags
}

resource "aws_s3_bucket_public_access_block" "content" {
  bucket                  = aws_s3_bucket.content.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "content" {
  bucket = aws_s3_bucket.content.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "content" {
  bucket = aws_s3_bucket.content.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = local.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "content" {
  bucket = aws_s3_bucket.content.id
  versioning_configuration {
    status = var.bucket_versioning ? "Enabled" : "Suspended"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "content" {
  bucket = aws_s3_bucket.content.id

  # Content expires; the configuration (under config/) does not.
  dynamic "rule" {
    for_each = toset(var.content_prefixes)
    content {
      id     = "expire-${trimsuffix(rule.value, "/")}"
      status = "Enabled"
      filter {
        prefix = rule.value
      }
      expiration {
        days = var.content_expiration_days
      }
      noncurrent_version_expiration {
        noncurrent_days = var.noncurrent_version_expiration_days
      }
    }
  }

  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"
    filter {
      prefix = ""
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  rule {
    id     = "keep-config"
    status = "Enabled"
    filter {
      prefix = "config/"
    }
    noncurrent_version_expiration {
      noncurrent_days = 90
    }
  }
}

data "aws_iam_policy_document" "content_bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.content.arn,
      "${aws_s3_bucket.content.arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "content" {
  bucket = aws_s3_bucket.content.id
  policy = data.aws_iam_policy_document.content_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.content]
}

resource "aws_s3_object" "config" {
  count = var.config_file != null ? 1 : 0

  bucket                 = aws_s3_bucket.content.id
  key                    = var.config_object_key
  source                 = var.config_file
  source_hash            = filemd5(var.config_file)
  content_type           = "application/toml"
  server_side_encryption = "aws:kms"
  kms_key_id             = local.kms_key_arn
  tags                   = local.tags
}

# ---------------------------------------------------------------------------
# DynamoDB: one table, string keys pk/sk, TTL on `ttl` (epoch seconds).
# ---------------------------------------------------------------------------

resource "aws_dynamodb_table" "state" {
  name                        = "${var.name}-state"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = var.table_deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "sk"
    type = "S"
  }

  ttl {
    attribute_name = "ttl"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = local.kms_key_arn
  }

  tags = local.tags
}
