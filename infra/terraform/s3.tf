locals {
  # Prefixes of the data lake bucket, named once: the Glue role may write only these.
  gold_prefix       = "gold"           # the star schema (crawled, queried by Athena)
  staging_prefix    = "etl-staging"    # the job's staging files, deleted by each run
  glue_temp_prefix  = "glue-temp"      # Glue's --TempDir
  athena_prefix     = "athena-results" # Athena query results (the learner's, not the role's)
  transforms_prefix = "transforms"     # SQL the learner gives the job (--<table>_sql_uri); read only
  buckets = {
    data_lake = aws_s3_bucket.data_lake
    scripts   = aws_s3_bucket.scripts
  }
}

# force_destroy: `terraform destroy` must remove everything the lab created, objects included
# (the star schema is rebuilt from MySQL by one job run).
resource "aws_s3_bucket" "data_lake" {
  #checkov:skip=CKV_AWS_18: no access logging: it needs a second bucket that logs grow in; a teaching lab with one user has no audit need that outweighs the cost.
  #checkov:skip=CKV_AWS_21: no versioning: every run overwrites a fixed key per table and the source of truth is MySQL (a run rebuilds the star), so old versions would only cost storage.
  #checkov:skip=CKV_AWS_144: no cross-region replication: the data is derived and rebuilt by one job run; a replica doubles the cost.
  #checkov:skip=CKV2_AWS_62: no event notifications: nothing in the lab reacts to object events (the crawler is started explicitly).
  bucket        = var.data_lake_bucket
  force_destroy = true
}

resource "aws_s3_bucket" "scripts" {
  #checkov:skip=CKV_AWS_18: no access logging: holds one script that Terraform uploads; see the data lake bucket.
  #checkov:skip=CKV_AWS_21: no versioning: the script's source of truth is this repository (utils/etl/job.py).
  #checkov:skip=CKV_AWS_144: no cross-region replication: the content is in git.
  #checkov:skip=CKV2_AWS_62: no event notifications: nothing reacts to the script being uploaded.
  bucket        = var.scripts_bucket
  force_destroy = true
}

resource "aws_s3_bucket_public_access_block" "data_lake" {
  bucket                  = aws_s3_bucket.data_lake.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_public_access_block" "scripts" {
  bucket                  = aws_s3_bucket.scripts.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# ACLs off: access is decided by IAM and the bucket policy only.
resource "aws_s3_bucket_ownership_controls" "data_lake" {
  bucket = aws_s3_bucket.data_lake.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_ownership_controls" "scripts" {
  bucket = aws_s3_bucket.scripts.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

# Encryption at rest with KMS, using the AWS managed key aws/s3: no key to pay for or to
# delete afterwards, and every principal of the account that may use S3 may use it
# (its key policy says so), so the Glue role needs no KMS statement. The bucket key cuts
# KMS requests to about one per object batch.
resource "aws_s3_bucket_server_side_encryption_configuration" "data_lake" {
  bucket = aws_s3_bucket.data_lake.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "scripts" {
  bucket = aws_s3_bucket.scripts.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
    bucket_key_enabled = true
  }
}

# Only TLS: requests over plain HTTP are denied, whoever makes them.
data "aws_iam_policy_document" "tls_only" {
  for_each = local.buckets
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [each.value.arn, "${each.value.arn}/*"]
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

resource "aws_s3_bucket_policy" "tls_only" {
  for_each = local.buckets
  bucket   = each.value.id
  policy   = data.aws_iam_policy_document.tls_only[each.key].json
  # the public access block must exist first, or S3 may judge the policy public
  depends_on = [aws_s3_bucket_public_access_block.data_lake, aws_s3_bucket_public_access_block.scripts]
}

# Temporary files do not outlive a day, query results a week; unfinished uploads are dropped.
resource "aws_s3_bucket_lifecycle_configuration" "data_lake" {
  bucket = aws_s3_bucket.data_lake.id
  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
  rule {
    id     = "expire-etl-staging"
    status = "Enabled"
    filter {
      prefix = "${local.staging_prefix}/"
    }
    expiration {
      days = 1
    }
  }
  rule {
    id     = "expire-glue-temp"
    status = "Enabled"
    filter {
      prefix = "${local.glue_temp_prefix}/"
    }
    expiration {
      days = 1
    }
  }
  rule {
    id     = "expire-athena-results"
    status = "Enabled"
    filter {
      prefix = "${local.athena_prefix}/"
    }
    expiration {
      days = 7
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "scripts" {
  bucket = aws_s3_bucket.scripts.id
  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

# The job script is the same file the local cloud runs.
resource "aws_s3_object" "etl_job_script" {
  #checkov:skip=CKV_AWS_186: the object is encrypted by the bucket's default SSE-KMS (AWS managed key); a customer-managed key costs $1/month and must be scheduled for deletion afterwards.
  bucket = aws_s3_bucket.scripts.id
  key    = "${var.project}-etl-job.py"
  source = "${path.module}/../../utils/etl/job.py"
  # source_hash, not etag: the ETag of an SSE-KMS object is not its MD5
  source_hash = filemd5("${path.module}/../../utils/etl/job.py")
}
