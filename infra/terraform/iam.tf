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

# Least privilege: read the script, read/write the data lake, read one secret,
# manage the one catalog database, write logs, and the ENI calls a VPC connection needs.
data "aws_iam_policy_document" "glue" {
  statement {
    sid       = "ReadJobScript"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.scripts.arn}/*"]
  }
  statement {
    sid       = "ListDataLake"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [aws_s3_bucket.data_lake.arn]
  }
  statement {
    sid       = "ReadWriteDataLake"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.data_lake.arn}/*"]
  }
  statement {
    sid       = "ReadDbSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.etl_db.arn]
  }
  statement {
    sid = "CatalogOfTheAnalyticsDatabase"
    actions = [
      "glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:CreateTable",
      "glue:UpdateTable", "glue:GetPartition", "glue:GetPartitions",
      "glue:BatchCreatePartition", "glue:GetConnection",
    ]
    resources = [
      "arn:aws:glue:${var.region}:${data.aws_caller_identity.current.account_id}:catalog",
      aws_glue_catalog_database.analytics.arn,
      "arn:aws:glue:${var.region}:${data.aws_caller_identity.current.account_id}:table/${aws_glue_catalog_database.analytics.name}/*",
      "arn:aws:glue:${var.region}:${data.aws_caller_identity.current.account_id}:connection/${aws_glue_connection.rds.name}",
    ]
  }
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["arn:aws:logs:${var.region}:${data.aws_caller_identity.current.account_id}:log-group:/aws-glue/*"]
  }
  statement {
    sid = "VpcConnectionNetworkInterfaces"
    actions = [
      "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeVpcEndpoints", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
      "ec2:DescribeRouteTables", "ec2:DescribeVpcAttribute", "ec2:CreateTags",
    ]
    resources = ["*"] # these EC2 describe/ENI calls do not support resource-level permissions
  }
}

data "aws_caller_identity" "current" {}

resource "aws_iam_role_policy" "glue" {
  name   = "${var.project}-glue-least-privilege"
  role   = aws_iam_role.glue.id
  policy = data.aws_iam_policy_document.glue.json
}
