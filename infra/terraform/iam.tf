data "aws_caller_identity" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  glue_arn   = "arn:aws:glue:${var.region}:${local.account_id}"
  ec2_arn    = "arn:aws:ec2:${var.region}:${local.account_id}"
  data_lake  = aws_s3_bucket.data_lake.arn
}

# Only the Glue service may assume the role. (No aws:SourceAccount condition: AWS Glue does
# not document that it sets that key when it assumes a job's role, and a condition it does
# not meet would stop every run.)
data "aws_iam_policy_document" "glue_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["glue.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "glue" {
  name               = "${var.project}-glue-role"
  assume_role_policy = data.aws_iam_policy_document.glue_assume.json
}

# Least privilege for the job and the crawler (they share this role, as in the course):
# - read the job script (that one object) and the source database secret (that one secret);
# - write only gold/ (the star), etl-staging/ (the job's staging files) and glue-temp/
#   (Glue's --TempDir) in the data lake; list only those prefixes;
# - use only the analytics database's catalog entries and the one connection;
# - write logs under /aws-glue/;
# - the network interfaces a VPC connection needs, in the connection's subnet and
#   security group only (describe calls have no resource-level permissions).
data "aws_iam_policy_document" "glue" {
  statement {
    sid       = "ReadJobScript"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.scripts.arn}/${aws_s3_object.etl_job_script.key}"]
  }
  statement {
    sid       = "LocateDataLake"
    actions   = ["s3:GetBucketLocation"]
    resources = [local.data_lake]
  }
  statement {
    sid       = "ListOnlyTheJobPrefixes"
    actions   = ["s3:ListBucket"]
    resources = [local.data_lake]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values = [
        local.gold_prefix, "${local.gold_prefix}/*",
        "${local.staging_prefix}/*", "${local.glue_temp_prefix}/*",
      ]
    }
  }
  statement {
    sid     = "ReadWriteOnlyTheJobPrefixes"
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [
      "${local.data_lake}/${local.gold_prefix}/*",
      "${local.data_lake}/${local.staging_prefix}/*",
      "${local.data_lake}/${local.glue_temp_prefix}/*",
    ]
  }
  statement {
    # The lab's exercise: a run may be given SQL for one star table (--<table>_sql_uri); the
    # job reads it, runs it in a sandbox and reconciles the result (utils/etl/job.py).
    sid       = "ReadGivenTransforms"
    actions   = ["s3:GetObject"]
    resources = ["${local.data_lake}/${local.transforms_prefix}/*"]
  }
  statement {
    sid       = "ReadDbSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.etl_db.arn]
  }
  statement {
    sid = "CatalogOfTheAnalyticsDatabaseOnly"
    actions = [
      "glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:CreateTable", "glue:UpdateTable",
      "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition", "glue:BatchCreatePartition",
      "glue:UpdatePartition",
    ]
    resources = [
      "${local.glue_arn}:catalog",
      aws_glue_catalog_database.analytics.arn,
      "${local.glue_arn}:table/${aws_glue_catalog_database.analytics.name}/*",
    ]
  }
  statement {
    sid       = "TheRdsConnectionOnly"
    actions   = ["glue:GetConnection"]
    resources = ["${local.glue_arn}:catalog", aws_glue_connection.rds.arn]
  }
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["arn:aws:logs:${var.region}:${local.account_id}:log-group:/aws-glue/*"]
  }
  statement {
    sid = "DescribeTheNetwork"
    actions = [
      "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcEndpoints", "ec2:DescribeSubnets",
      "ec2:DescribeSecurityGroups", "ec2:DescribeRouteTables",
    ]
    resources = ["*"] # these Describe calls support no resource-level permissions
  }
  statement {
    sid       = "DescribeTheConnectionVpcOnly"
    actions   = ["ec2:DescribeVpcAttribute"]
    resources = ["${local.ec2_arn}:vpc/${var.vpc_id}"]
  }
  statement {
    sid     = "NetworkInterfacesInTheConnectionSubnetOnly"
    actions = ["ec2:CreateNetworkInterface"]
    resources = [
      "${local.ec2_arn}:network-interface/*",
      "${local.ec2_arn}:subnet/${var.public_subnet_a_id}",
      "${local.ec2_arn}:security-group/${var.db_sg_id}",
    ]
  }
  statement {
    sid       = "RemoveItsNetworkInterfaces"
    actions   = ["ec2:DeleteNetworkInterface"]
    resources = ["${local.ec2_arn}:network-interface/*"]
  }
  statement {
    sid       = "TagItsNetworkInterfaces"
    actions   = ["ec2:CreateTags", "ec2:DeleteTags"]
    resources = ["${local.ec2_arn}:network-interface/*"]
    condition {
      test     = "ForAllValues:StringEquals"
      variable = "aws:TagKeys"
      values   = ["aws-glue-service-resource"]
    }
  }
}

resource "aws_iam_role_policy" "glue" {
  name   = "${var.project}-glue-least-privilege"
  role   = aws_iam_role.glue.id
  policy = data.aws_iam_policy_document.glue.json
}
