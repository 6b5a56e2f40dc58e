# The course's variables (project "de-c1w2"); `scripts/setup.sh` in the course exports
# them as TF_VAR_*; here `infra/terraform/setup.sh` derives them from the same settings
# the notebooks read.

variable "project" {
  type        = string
  default     = "de-c1w2"
  description = "Prefix of every resource name."
}

variable "region" {
  type        = string
  default     = "us-east-1"
  description = "AWS region of every resource."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the RDS instance (the Glue connection runs in it)."
}

variable "public_subnet_a_id" {
  type        = string
  description = "Subnet for the Glue connection's network interface."
}

variable "db_sg_id" {
  type        = string
  description = "Security group of the RDS instance."
}

variable "host" {
  type        = string
  description = "RDS endpoint address (aws rds describe-db-instances ...)."
}

variable "port" {
  type        = number
  default     = 3306
  description = "RDS port."
}

variable "database" {
  type        = string
  default     = "classicmodels"
  description = "Source database name."
}

variable "username" {
  type        = string
  default     = "etl_reader"
  description = "Read-only database user the ETL job connects as."
}

variable "password" {
  type        = string
  sensitive   = true
  description = "Password of the read-only user (from TF_VAR_password; never committed)."
}

variable "data_lake_bucket" {
  type        = string
  description = "Bucket of the star schema (gold/) and Athena results."
}

variable "scripts_bucket" {
  type        = string
  description = "Bucket holding the Glue job script."
}
