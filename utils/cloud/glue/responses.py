"""Wire format of the Glue operations we make real (moto's ``responses.py`` role).

Each handler decodes a JSON request body, calls a model
(:mod:`utils.cloud.glue.jobs`, :mod:`utils.cloud.glue.crawler`) and shapes its
answer as the AWS Glue API does. Everything else Glue (CreateJob, GetJob,
CreateCrawler, the Data Catalog ...) stays moto's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from utils.cloud.exceptions import ServiceError
from utils.cloud.glue import crawler as crawler_model
from utils.cloud.glue import jobs as jobs_model
from utils.cloud.glue import search as search_model
from utils.cloud.glue.exceptions import InvalidInput, from_moto

Handler = Callable[[dict[str, Any]], dict[str, Any]]


def _require(body: dict[str, Any], name: str) -> Any:
    value = body.get(name)
    if value in (None, ""):
        raise InvalidInput(f"{name} is required.")
    return value


def _page(items: list[Any], body: dict[str, Any], default_size: int = 100) -> tuple[list[Any], str | None]:
    """Slice a list with Glue's MaxResults / NextToken (the token is an offset)."""
    try:
        start = int(body.get("NextToken") or 0)
    except ValueError:
        raise InvalidInput("NextToken is invalid: pass the NextToken of the previous page.") from None
    size = int(body.get("MaxResults") or default_size)
    page = items[start:start + size]
    return page, str(start + size) if start + size < len(items) else None


# -- jobs ---------------------------------------------------------------------------


def start_job_run(body: dict[str, Any]) -> dict[str, Any]:
    """StartJobRun: run the job's script for real; answer with the new run id."""
    run = jobs_model.runner().start_job_run(
        _require(body, "JobName"), body.get("Arguments") or {}, body.get("Timeout"),
        previous_run_id=body.get("JobRunId"))
    return {"JobRunId": run.job_run_id}


def get_job_run(body: dict[str, Any]) -> dict[str, Any]:
    """GetJobRun: the run's real state, timing and error message."""
    run = jobs_model.runner().get_job_run(_require(body, "JobName"), _require(body, "RunId"))
    return {"JobRun": run.as_dict()}


def get_job_runs(body: dict[str, Any]) -> dict[str, Any]:
    """GetJobRuns: the job's run history, newest first, paged."""
    runs = jobs_model.runner().get_job_runs(_require(body, "JobName"))
    page, token = _page(runs, body, default_size=200)
    out: dict[str, Any] = {"JobRuns": [run.as_dict() for run in page]}
    if token:
        out["NextToken"] = token
    return out


def batch_stop_job_run(body: dict[str, Any]) -> dict[str, Any]:
    """BatchStopJobRun: stop active runs (their scripts are terminated)."""
    job_name = _require(body, "JobName")
    stopped, errors = jobs_model.runner().stop_job_runs(job_name, list(_require(body, "JobRunIds")))
    return {
        "SuccessfulSubmissions": [{"JobName": job_name, "JobRunId": rid} for rid in stopped],
        "Errors": [{"JobName": job_name, "JobRunId": rid,
                    "ErrorDetail": {"ErrorCode": "InvalidInputException", "ErrorMessage": why}}
                   for rid, why in errors],
    }


def update_job(body: dict[str, Any]) -> dict[str, Any]:
    """UpdateJob: replace the job's definition (moto does not implement it)."""
    name = _require(body, "JobName")
    jobs_model.runner().update_job(name, _require(body, "JobUpdate"))
    return {"JobName": name}


# -- the Data Catalog ------------------------------------------------------------------


def search_tables(body: dict[str, Any]) -> dict[str, Any]:
    """SearchTables: tables of every database matching text and filters, sorted, paged."""
    tables = search_model.search_tables(jobs_model.runner().catalog.backend, body)
    size = int(body.get("MaxResults") or 100)
    if not 1 <= size <= 1000:
        raise InvalidInput("MaxResults must be between 1 and 1000.")
    page, token = _page(tables, {**body, "MaxResults": size})
    out: dict[str, Any] = {"TableList": page}
    if token:
        out["NextToken"] = token
    return out


def update_table(body: dict[str, Any]) -> dict[str, Any]:
    """UpdateTable: a new table version, archiving the current one, unless ``SkipArchive`` is
    true (then the current version is replaced and no new version is kept), as AWS Glue does."""
    database = _require(body, "DatabaseName")
    table_input = _require(body, "TableInput")
    name = table_input.get("Name") if isinstance(table_input, dict) else None
    if not name:
        raise InvalidInput("TableInput.Name is required.")
    backend = jobs_model.runner().catalog.backend
    if not body.get("SkipArchive"):
        backend.update_table(database, name, table_input)
        return {}
    from moto.core.utils import utcnow

    table = backend.get_table(database, name)  # EntityNotFoundException when absent
    table.versions[str(table._current_version)] = table_input
    table.updated_time = utcnow()
    return {}


# -- crawlers -----------------------------------------------------------------------


def start_crawler(body: dict[str, Any]) -> dict[str, Any]:
    """StartCrawler: crawl the S3 targets in the background (state RUNNING at once)."""
    crawler_model.runner().start_crawler(_require(body, "Name"))
    return {}


def stop_crawler(body: dict[str, Any]) -> dict[str, Any]:
    """StopCrawler: cancel the running crawl."""
    crawler_model.runner().stop_crawler(_require(body, "Name"))
    return {}


def get_crawler(body: dict[str, Any]) -> dict[str, Any]:
    """GetCrawler: moto's stored definition with the real state and LastCrawl."""
    return {"Crawler": crawler_model.runner().describe(_require(body, "Name"))}


def get_crawlers(body: dict[str, Any]) -> dict[str, Any]:
    """GetCrawlers: every crawler, described as GetCrawler does, paged."""
    model = crawler_model.runner()
    page, token = _page(model.names(), body)
    out: dict[str, Any] = {"Crawlers": [model.describe(name) for name in page]}
    if token:
        out["NextToken"] = token
    return out


def batch_get_crawlers(body: dict[str, Any]) -> dict[str, Any]:
    """BatchGetCrawlers: the named crawlers that exist, and the names that do not."""
    model = crawler_model.runner()
    names = list(_require(body, "CrawlerNames"))
    known = set(model.names())
    return {"Crawlers": [model.describe(n) for n in names if n in known],
            "CrawlersNotFound": [n for n in names if n not in known]}


def get_crawler_metrics(body: dict[str, Any]) -> dict[str, Any]:
    """GetCrawlerMetrics: tables created/updated/deleted by the last crawl, run times."""
    model = crawler_model.runner()
    names = body.get("CrawlerNameList") or model.names()
    page, token = _page(list(names), body)
    out: dict[str, Any] = {"CrawlerMetricsList": [model.metrics(name) for name in page]}
    if token:
        out["NextToken"] = token
    return out


_HANDLERS: dict[str, Handler] = {
    "StartJobRun": start_job_run,
    "GetJobRun": get_job_run,
    "GetJobRuns": get_job_runs,
    "BatchStopJobRun": batch_stop_job_run,
    "UpdateJob": update_job,
    "SearchTables": search_tables,
    "UpdateTable": update_table,
    "StartCrawler": start_crawler,
    "StopCrawler": stop_crawler,
    "GetCrawler": get_crawler,
    "GetCrawlers": get_crawlers,
    "BatchGetCrawlers": batch_get_crawlers,
    "GetCrawlerMetrics": get_crawler_metrics,
}


def handle(action: str, body: dict[str, Any]) -> dict[str, Any]:
    """Dispatch one registered Glue operation; moto's errors keep their AWS codes."""
    try:
        return _HANDLERS[action](body)
    except ServiceError:
        raise
    except Exception as exc:
        if hasattr(exc, "error_type"):  # moto's JsonRESTError (EntityNotFoundException ...)
            raise from_moto(exc) from None
        raise

