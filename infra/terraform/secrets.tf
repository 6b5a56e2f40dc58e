# The ETL job reads its database credentials from this secret, never from its arguments.
resource "aws_secretsmanager_secret" "etl_db" {
  name                    = "${var.project}/etl-db-credentials"
  recovery_window_in_days = 0
}

resource "aws_secretsmanager_secret_version" "etl_db" {
  secret_id = aws_secretsmanager_secret.etl_db.id
  secret_string = jsonencode({
    engine   = "mysql"
    host     = var.host
    port     = var.port
    dbname   = var.database
    username = var.username
    password = var.password
  })
}
