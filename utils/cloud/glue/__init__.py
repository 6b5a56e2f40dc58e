"""Glue jobs and crawlers that really run on the local cloud.

- :mod:`.jobs`: StartJobRun runs the job's script from S3 in a subprocess;
- :mod:`.crawler` and :mod:`.inference`: StartCrawler scans S3 Parquet folders into tables;
- :mod:`.responses`: their wire format (routed in :mod:`utils.cloud.urls`);
- :mod:`.logs`: CloudWatch Logs output;
- :mod:`.runtime`: the ``awsglue`` subset job scripts can import.

Everything else Glue (job and crawler definitions, the Data Catalog) is moto's.
"""

from __future__ import annotations

