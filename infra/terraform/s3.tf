resource "aws_s3_bucket" "data_lake" {
  bucket = var.data_lake_bucket
}

resource "aws_s3_bucket" "scripts" {
  bucket = var.scripts_bucket
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

resource "aws_s3_bucket_server_side_encryption_configuration" "data_lake" {
  bucket = aws_s3_bucket.data_lake.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "scripts" {
  bucket = aws_s3_bucket.scripts.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# The job script is the same file the local cloud runs.
resource "aws_s3_object" "etl_job_script" {
  bucket = aws_s3_bucket.scripts.id
  key    = "${var.project}-etl-job.py"
  source = "${path.module}/../../utils/etl/job.py"
  etag   = filemd5("${path.module}/../../utils/etl/job.py")
}
