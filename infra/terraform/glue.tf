resource "aws_glue_catalog_database" "analytics" {
  name        = "${var.project}-analytics-db"
  description = "Star schema of the classicmodels retailer"
}

resource "aws_glue_connection" "rds" {
  name            = "${var.project}-rds-connection"
  connection_type = "JDBC"
  connection_properties = {
    JDBC_CONNECTION_URL = "jdbc:mysql://${var.host}:${var.port}/${var.database}"
    SECRET_ID           = aws_secretsmanager_secret.etl_db.name
  }
  physical_connection_requirements {
    availability_zone      = data.aws_subnet.public_a.availability_zone
    security_group_id_list = [var.db_sg_id]
    subnet_id              = var.public_subnet_a_id
  }
}

data "aws_subnet" "public_a" {
  id = var.public_subnet_a_id
}

# The ETL job: utils/etl/job.py, the same file the local cloud runs, unchanged.
#
# Runtime: AWS Glue 5.0, job type "glueetl" (Spark), Python 3.11 on Amazon Linux 2023.
# The script never starts Spark: it runs as plain Python on the driver. Why not a Python
# shell job, the cheaper type? Python shell runs Python 3.9 (end of life since 2025-10),
# for which connectorx 0.4 and duckdb 2.x publish no wheels, so the job would run on
# versions the lab never tests. Glue 5.0 runs Python 3.11, the lab's own Python: the pins
# below are exactly the versions `make test` runs the job with
# (tests/infra/test_glue_runtime.py), and each one has a manylinux wheel for
# cp311 / glibc 2.34 (`make check-wheels`). See docs/architecture.md, "Running on AWS Glue".
#
# Cost (us-east-1, AWS Glue pricing page, read 2026-10): 2 G.1X workers = 2 DPU at
# $0.44 per DPU-hour, billed per second with a 1-minute minimum: about $0.015-0.03 per run
# (a run with module installation takes 1-2 minutes). A Python shell job (1/16 DPU) would
# cost ~$0.0005 per run; the difference is the price of testing what AWS runs.
resource "aws_glue_job" "etl" {
  #checkov:skip=CKV_AWS_195: no Glue security configuration: the job writes only to the data lake bucket, whose default encryption (SSE-KMS) applies; the configuration would add CloudWatch/bookmark encryption, which needs a customer-managed KMS key ($1/month) beyond a lab's budget.
  name              = "${var.project}-etl-job"
  role_arn          = aws_iam_role.glue.arn
  glue_version      = "5.0"
  worker_type       = "G.1X"
  number_of_workers = 2 # the minimum for a Spark job type
  timeout           = 10  # minutes; a run takes 1-2 (most of it installing the modules)
  connections       = [aws_glue_connection.rds.name]

  command {
    name            = "glueetl"
    python_version  = "3"
    script_location = "s3://${aws_s3_bucket.scripts.id}/${aws_s3_object.etl_job_script.key}"
  }

  default_arguments = {
    "--glue_connection" = aws_glue_connection.rds.name
    "--glue_database"   = aws_glue_catalog_database.analytics.name
    "--target_path"     = "s3://${aws_s3_bucket.data_lake.id}/${local.gold_prefix}"
    "--staging_path"    = "s3://${aws_s3_bucket.data_lake.id}/${local.staging_prefix}"
    "--db_secret"       = aws_secretsmanager_secret.etl_db.name
    "--region"          = var.region
    "--TempDir"         = "s3://${aws_s3_bucket.data_lake.id}/${local.glue_temp_prefix}/"
    # Every pin has a cp311 manylinux wheel (make check-wheels) and is the version the
    # tests run the job with. pip on Glue installs them at the start of each run, from
    # PyPI: the connection's subnet needs a route to the internet (README, "Running on
    # real AWS").
    "--additional-python-modules"        = "connectorx==0.4.6,duckdb==2.0.1,pyarrow==25.0.1,pymysql==1.2.4"
    "--enable-continuous-cloudwatch-log" = "true"
    "--job-language"                     = "python"
  }

  execution_property {
    max_concurrent_runs = 1
  }
}

resource "aws_glue_crawler" "analytics" {
  #checkov:skip=CKV_AWS_195: no Glue security configuration: the crawler only reads gold/ and writes catalog metadata; see the job above for why (customer-managed KMS key cost).
  name          = "${var.project}-analytics-db-crawler"
  role          = aws_iam_role.glue.arn
  database_name = aws_glue_catalog_database.analytics.name

  s3_target {
    path = "s3://${aws_s3_bucket.data_lake.id}/${local.gold_prefix}"
  }

  recrawl_policy {
    recrawl_behavior = "CRAWL_NEW_FOLDERS_ONLY"
  }

  schema_change_policy {
    update_behavior = "LOG"
    delete_behavior = "LOG"
  }
}
