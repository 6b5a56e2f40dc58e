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

# A Python shell job: the same script as the local cloud runs (no Spark needed at this size).
resource "aws_glue_job" "etl" {
  name         = "${var.project}-etl-job"
  role_arn     = aws_iam_role.glue.arn
  glue_version = "3.0"
  max_capacity = 1
  timeout      = 5
  connections  = [aws_glue_connection.rds.name]

  command {
    name            = "pythonshell"
    python_version  = "3.9"
    script_location = "s3://${aws_s3_bucket.scripts.id}/${aws_s3_object.etl_job_script.key}"
  }

  default_arguments = {
    "--glue_connection"                  = aws_glue_connection.rds.name
    "--glue_database"                    = aws_glue_catalog_database.analytics.name
    "--target_path"                      = "s3://${aws_s3_bucket.data_lake.id}/gold"
    "--db_secret"                        = aws_secretsmanager_secret.etl_db.name
    "--additional-python-modules"        = "connectorx==0.4.6,duckdb==1.1.3"
    "--enable-continuous-cloudwatch-log" = "true"
  }

  execution_property {
    max_concurrent_runs = 1
  }
}

resource "aws_glue_crawler" "analytics" {
  name          = "${var.project}-analytics-db-crawler"
  role          = aws_iam_role.glue.arn
  database_name = aws_glue_catalog_database.analytics.name

  s3_target {
    path = "s3://${aws_s3_bucket.data_lake.id}/gold"
  }

  recrawl_policy {
    recrawl_behavior = "CRAWL_NEW_FOLDERS_ONLY"
  }

  schema_change_policy {
    update_behavior = "LOG"
    delete_behavior = "LOG"
  }
}
