"""A small, compatible subset of AWS Glue's ``awsglue`` library for local job runs."""
