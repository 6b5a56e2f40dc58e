output "glue_job_name" {
  value = aws_glue_job.etl.name
}

output "glue_crawler_name" {
  value = aws_glue_crawler.analytics.name
}

output "glue_database" {
  value = aws_glue_catalog_database.analytics.name
}

output "data_lake_bucket" {
  value = aws_s3_bucket.data_lake.id
}
