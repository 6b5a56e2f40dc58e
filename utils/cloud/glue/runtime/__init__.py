"""Modules a local Glue job run finds on its ``PYTHONPATH``, as on AWS Glue.

AWS Glue puts its ``awsglue`` library on every job's path. Python shell job
scripts use one function of it, ``awsglue.utils.getResolvedOptions``, to read
their ``--key value`` arguments; this folder provides a compatible version so a
script deployable to AWS Glue runs unchanged locally. Nothing else from
``utils`` is visible to job scripts (AWS Glue would not have it).
"""
