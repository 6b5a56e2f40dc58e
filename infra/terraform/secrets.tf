# The ETL job reads its database credentials from this secret, never from its arguments.
# recovery_window_in_days = 0: `terraform destroy` deletes it at once, so the lab can be
# created again with the same name (a secret pending deletion still costs and blocks the name).
resource "aws_secretsmanager_secret" "etl_db" {
  #checkov:skip=CKV_AWS_149: encrypted at rest with the AWS managed key aws/secretsmanager; a customer-managed key costs $1/month and outlives the lab by its 7-day deletion window.
  #checkov:skip=CKV2_AWS_57: no automatic rotation: rotation needs a Lambda function with network access to the database; the password belongs to the lab's read-only user and is rotated by changing DELAB_DB_ETL_PASSWORD and re-applying.
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
