# Usage (real AWS only): source infra/terraform/setup.sh
# Exports the TF_VAR_* variables the Terraform needs, read from the account (like the
# course's scripts/setup.sh) and from the lab's settings. No secret is written to disk:
# the read-only user's password comes from DELAB_DB_ETL_PASSWORD in your environment.
project=de-c1w2
region=${AWS_DEFAULT_REGION:-us-east-1}
account=$(aws sts get-caller-identity --query Account --output text)
rds_id=${project}-rds
export TF_VAR_project=$project
export TF_VAR_region=$region
export TF_VAR_host=$(aws rds describe-db-instances --db-instance-identifier "$rds_id" --output text --query "DBInstances[].Endpoint.Address")
export TF_VAR_port=$(aws rds describe-db-instances --db-instance-identifier "$rds_id" --output text --query "DBInstances[].Endpoint.Port")
export TF_VAR_vpc_id=$(aws rds describe-db-instances --db-instance-identifier "$rds_id" --output text --query "DBInstances[].DBSubnetGroup.VpcId")
export TF_VAR_db_sg_id=$(aws rds describe-db-instances --db-instance-identifier "$rds_id" --output text --query "DBInstances[].VpcSecurityGroups[0].VpcSecurityGroupId")
export TF_VAR_public_subnet_a_id=$(aws rds describe-db-instances --db-instance-identifier "$rds_id" --output text --query "DBInstances[].DBSubnetGroup.Subnets[0].SubnetIdentifier")
export TF_VAR_database=${DELAB_DB_NAME:-classicmodels}
export TF_VAR_username=${DELAB_DB_ETL_USER:-etl_reader}
export TF_VAR_password=${DELAB_DB_ETL_PASSWORD:?set DELAB_DB_ETL_PASSWORD to the read-only user password}
export TF_VAR_data_lake_bucket=${DELAB_DATA_LAKE_BUCKET:-${project}-${account}-${region}-data-lake}
export TF_VAR_scripts_bucket=${DELAB_SCRIPTS_BUCKET:-${project}-${account}-${region}-scripts}
echo "TF_VAR_* exported for $project in $region (account $account)."
