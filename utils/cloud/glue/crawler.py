"""Glue crawlers that crawl: StartCrawler scans S3, infers Parquet tables, writes the catalog.

moto stores crawler definitions (CreateCrawler, UpdateCrawler, DeleteCrawler,
ListCrawlers stay moto's) but never crawls. :class:`CrawlerRunner` runs a crawl
in a background thread:

RUNNING   read every Parquet footer under the S3 targets (in-process, no HTTP),
          infer tables (:mod:`utils.cloud.glue.inference`) and apply them to the
          Data Catalog per the crawler's SchemaChangePolicy and RecrawlPolicy;
STOPPING  a short pause, as Glue's crawler spends a while there before READY;
READY     with LastCrawl (SUCCEEDED / FAILED / CANCELLED) and metrics.

Each crawl is a :class:`LocalCrawl` kept in moto's ``FakeCrawler.crawls``, so
moto's ListCrawls sees it too. Log lines go to CloudWatch Logs group
``/aws-glue/crawlers``, stream = the crawler name, as on AWS.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from moto.glue.models import FakeCrawl, FakeCrawler

from utils.cloud import persistence
from utils.cloud.backends import GlueCatalog, NoSuchBucket, ObjectStore, split_s3_uri
from utils.cloud.glue import logs
from utils.cloud.glue.exceptions import CrawlerNotRunning, CrawlerRunning, from_moto
from utils.cloud.glue.inference import ObjectSchema, TableDefinition, infer_tables, split_target
from utils.cloud.glue.regional import RealState, RegionalGlue
from utils.config import get_settings

# How long a finished crawl stays in STOPPING before READY. Glue takes a minute or
# so; a fraction of a second keeps the transition visible without slowing the lab.
STOPPING_SECONDS = 0.2

_LOCK = threading.RLock()

_LAST_CRAWL_STATUS = {"COMPLETED": "SUCCEEDED", "FAILED": "FAILED", "STOPPED": "CANCELLED"}


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class CrawlSummary:
    """What one crawl changed in the catalog (GetCrawlerMetrics' counts)."""

    tables_created: int = 0
    tables_updated: int = 0
    tables_deleted: int = 0
    partitions_added: int = 0
    partitions_deleted: int = 0
    messages: list[str] = field(default_factory=list)


class LocalCrawl(RealState, FakeCrawl):
    """One crawl whose state is set by the crawl thread (moto's crawl model, made real).

    Crawl states are those of ListCrawls: RUNNING, then COMPLETED, FAILED or
    STOPPED; ``STOPPING`` in between makes moto's crawler report STOPPING.
    """

    def __init__(self, crawler_name: str) -> None:
        super().__init__(crawler_name)
        self.state = "RUNNING"
        self.start_time = _utcnow()
        self.started = time.monotonic()
        self.runtime_seconds = 0.0
        self.error_message: str | None = None
        self.cancel_requested = False
        self.summary = CrawlSummary()
        self.finished = threading.Event()

    def finish(self, state: str, error: str | None = None) -> None:
        """Enter a final state (COMPLETED, FAILED or STOPPED)."""
        with _LOCK:
            self.state = state
            self.error_message = error
            self.end_time = _utcnow()
            self.finished.set()
        persistence.changed("glue", wait=False)

    def __getstate__(self) -> dict[str, Any]:
        """Saved without the event (persistence pickles crawls)."""
        state = self.__dict__.copy()
        state.pop("finished", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.finished = threading.Event()
        if self.state not in ("RUNNING", "STOPPING"):
            self.finished.set()

    def as_dict(self) -> dict[str, Any]:
        """The crawl as ListCrawls' ``CrawlerHistory`` entry, with its summary."""
        out = dict(super().as_dict())
        out["Summary"] = json.dumps({"TABLE": {"ADD": {"Count": self.summary.tables_created},
                                               "UPDATE": {"Count": self.summary.tables_updated},
                                               "DELETE": {"Count": self.summary.tables_deleted}}})
        if self.error_message:
            out["ErrorMessage"] = self.error_message
        return out


class CrawlLog:
    """A crawl's log lines, written to ``/aws-glue/crawlers`` as Glue formats them."""

    def __init__(self, crawler_name: str, crawl_id: str, region: str) -> None:
        self.writer = logs.StreamWriter(logs.CRAWLER_LOG_GROUP, crawler_name, region, interval=0)
        self.crawl_id = crawl_id
        self.lines: list[str] = []

    def __call__(self, level: str, message: str) -> None:
        line = f"[{self.crawl_id}] {level} : {message}"
        self.lines.append(line)
        self.writer.write(line)


def read_object_schemas(store: ObjectStore, target_path: str) -> list[ObjectSchema]:
    """Every object under an S3 target with its Parquet schema (footer only; None if not Parquet)."""
    bucket, _ = split_s3_uri(target_path)
    _, prefix = split_target(target_path)
    out = []
    for obj in store.list(bucket, prefix):
        schema, rows = None, 0
        if obj.size >= 12 and not obj.key.endswith("/"):
            try:
                meta = pq.read_metadata(pa.BufferReader(store.get(bucket, obj.key)))
                schema, rows = meta.schema.to_arrow_schema(), meta.num_rows
            except (pa.ArrowInvalid, OSError, KeyError):
                schema = None  # not Parquet: reported as skipped by the inference
        out.append(ObjectSchema(obj.key, obj.size, schema, rows))
    return out


def _same_location(a: str | None, b: str | None) -> bool:
    return (a or "").rstrip("/") == (b or "").rstrip("/")


def _schema_of(table: dict[str, Any]) -> tuple[list[tuple[str, str]], list[str]]:
    columns = [(c["Name"].lower(), c.get("Type", "").lower())
               for c in table.get("StorageDescriptor", {}).get("Columns", [])]
    keys = [k["Name"].lower() for k in table.get("PartitionKeys") or []]
    return columns, keys


def describe_change(old: dict[str, Any], new: TableDefinition) -> str | None:
    """A one-line description of how a stored table differs from what the crawl found."""
    old_columns, old_keys = _schema_of(old)
    if old_columns == new.columns and old_keys == new.partition_keys:
        return None
    old_types, new_types = dict(old_columns), dict(new.columns)
    parts = []
    added = [c for c in new_types if c not in old_types]
    removed = [c for c in old_types if c not in new_types]
    retyped = [f"{c} {old_types[c]}->{new_types[c]}" for c in new_types
               if c in old_types and old_types[c] != new_types[c]]
    if added:
        parts.append(f"added columns {added}")
    if removed:
        parts.append(f"removed columns {removed}")
    if retyped:
        parts.append(f"changed types [{', '.join(retyped)}]")
    if old_keys != new.partition_keys:
        parts.append(f"partition keys {old_keys} -> {new.partition_keys}")
    return "; ".join(parts) or "column order changed"


def apply_to_catalog(catalog: GlueCatalog, crawler: FakeCrawler, tables: list[TableDefinition],
                     log: CrawlLog, crawled_paths: list[str]) -> CrawlSummary:
    """Create/update/delete catalog tables and partitions per the crawler's policies."""
    summary = CrawlSummary()
    database = crawler.database_name
    policy = crawler.schema_change_policy or {}
    update_behavior = policy.get("UpdateBehavior", "UPDATE_IN_DATABASE")
    delete_behavior = policy.get("DeleteBehavior", "DEPRECATE_IN_DATABASE")
    new_folders_only = (crawler.recrawl_policy or {}).get("RecrawlBehavior") == "CRAWL_NEW_FOLDERS_ONLY"
    if not catalog.database_exists(database):
        catalog.create_database(database)
        log("INFO", f"Created database {database}")

    found = set()
    for table in tables:
        existing = catalog.get_table(database, table.name)
        if existing is not None and not _same_location(
                existing.get("StorageDescriptor", {}).get("Location"), table.location):
            log("WARN", f"Table {table.name} already exists in {database} with location "
                        f"{existing.get('StorageDescriptor', {}).get('Location')}, not "
                        f"{table.location}; left unchanged. Drop it or set a TablePrefix.")
            continue
        found.add(table.name)
        if existing is None:
            catalog.put_table(database, table.table_input(crawler.name))
            summary.tables_created += 1
            log("INFO", f"Created table {table.name} in database {database} "
                        f"({len(table.columns)} columns, {table.record_count} rows, "
                        f"{len(table.partitions)} partitions)")
        else:
            change = describe_change(existing, table)
            if change and new_folders_only:
                log("INFO", f"Table {table.name}: schema change found ({change}) but not applied: "
                            "RecrawlPolicy is CRAWL_NEW_FOLDERS_ONLY.")
            elif change and update_behavior == "UPDATE_IN_DATABASE":
                catalog.put_table(database, table.table_input(crawler.name))
                summary.tables_updated += 1
                log("INFO", f"Updated table {table.name} in database {database}: {change}")
            elif change:
                log("WARN", f"The schema of table {table.name} changed ({change}); the table was "
                            "not updated because SchemaChangePolicy.UpdateBehavior is LOG.")
        _apply_partitions(catalog, crawler, table, database, delete_behavior, new_folders_only,
                          summary, log)

    if new_folders_only:
        return summary  # deleted folders are not looked for on a new-folders-only crawl
    for stored in catalog.tables(database):
        name = stored["Name"]
        params = stored.get("Parameters") or {}
        location = stored.get("StorageDescriptor", {}).get("Location", "")
        if name in found or params.get("UPDATED_BY_CRAWLER") != crawler.name:
            continue
        if not any(location.rstrip("/").startswith(path.rstrip("/")) for path in crawled_paths):
            continue
        if delete_behavior == "DELETE_FROM_DATABASE":
            catalog.delete_table(database, name)
            summary.tables_deleted += 1
            log("INFO", f"Deleted table {name}: its folder {location} has no data any more.")
        elif delete_behavior == "DEPRECATE_IN_DATABASE":
            if "DEPRECATED_BY_CRAWLER" not in params:
                stored_input = {k: v for k, v in stored.items() if k in (
                    "Name", "Description", "Owner", "Retention", "StorageDescriptor", "PartitionKeys",
                    "TableType", "Parameters")}
                stored_input["Parameters"] = {**params, "DEPRECATED_BY_CRAWLER": "1"}
                catalog.put_table(database, stored_input)
                summary.tables_deleted += 1
                log("INFO", f"Deprecated table {name}: its folder {location} has no data any more.")
        else:
            log("WARN", f"Table {name}: its folder {location} has no data any more; the table was "
                        "kept because SchemaChangePolicy.DeleteBehavior is LOG.")
    return summary


def _apply_partitions(catalog: GlueCatalog, crawler: FakeCrawler, table: TableDefinition,
                      database: str, delete_behavior: str, new_folders_only: bool,
                      summary: CrawlSummary, log: CrawlLog) -> None:
    stored_table = catalog.get_table(database, table.name) or {}
    _, stored_keys = _schema_of(stored_table)
    if not table.partition_keys or stored_keys != table.partition_keys:
        return  # the stored table's layout wins (LOG policy); its partitions would not fit
    stored = {tuple(p["Values"]) for p in catalog.partitions(database, table.name)}
    seen = set()
    added = 0
    for partition in table.partitions:
        values = tuple(partition.values)
        seen.add(values)
        if values not in stored:
            catalog.put_partition(database, table.name, table.partition_input(partition, crawler.name))
            added += 1
    summary.partitions_added += added
    if added:
        log("INFO", f"Table {table.name}: added {added} partition(s).")
    gone = stored - seen
    if gone and not new_folders_only:
        if delete_behavior == "DELETE_FROM_DATABASE":
            for values in gone:
                catalog.delete_partition(database, table.name, list(values))
                summary.partitions_deleted += 1
            log("INFO", f"Table {table.name}: deleted {len(gone)} partition(s) whose folders are gone.")
        else:
            log("WARN", f"Table {table.name}: {len(gone)} partition(s) have no folder any more; kept "
                        f"because SchemaChangePolicy.DeleteBehavior is {delete_behavior}.")


class CrawlerRunner(RegionalGlue):
    """Starts, tracks and describes real crawls for one region of the local cloud."""

    def _crawler(self, name: str) -> FakeCrawler:
        try:
            return self.catalog.backend.get_crawler(name)
        except Exception as exc:  # moto's EntityNotFoundException
            raise from_moto(exc) from None

    def names(self) -> list[str]:
        """Names of every crawler."""
        return list(self.catalog.backend.crawlers)

    def start_crawler(self, name: str) -> LocalCrawl:
        """Start a crawl in the background; CrawlerRunningException if one is running."""
        crawler = self._crawler(name)
        with _LOCK:
            if crawler.crawls and crawler.crawls[-1].status in ("RUNNING", "STOPPING"):
                raise CrawlerRunning(f"Crawler with name {name} has already started. Wait until "
                                     f"`aws glue get-crawler --name {name}` shows State READY.")
            crawl = LocalCrawl(name)
            crawler.crawls.append(crawl)
        threading.Thread(target=self._run, args=(crawler, crawl), daemon=True,
                         name=f"glue-crawl-{name}").start()
        return crawl

    def stop_crawler(self, name: str) -> None:
        """Ask the running crawl to stop (it ends CANCELLED)."""
        crawler = self._crawler(name)
        with _LOCK:
            crawl = crawler.crawls[-1] if crawler.crawls else None
            if crawl is None or crawl.status != "RUNNING":
                raise CrawlerNotRunning(f"Crawler with name {name} isn't running.")
            crawl.cancel_requested = True

    def _run(self, crawler: FakeCrawler, crawl: LocalCrawl) -> None:
        log = CrawlLog(crawler.name, crawl.crawl_id, self.region)
        log("BENCHMARK", f"Running Start Crawl for Crawler {crawler.name}")
        log("INFO", "Crawler configured with SchemaChangePolicy "
                    f"{json.dumps(crawler.schema_change_policy or {})}, RecrawlPolicy "
                    f"{json.dumps(crawler.recrawl_policy or {})}")
        state, error = "COMPLETED", None
        try:
            crawl.summary = self._crawl(crawler, crawl, log)
            if crawl.cancel_requested:
                state = "STOPPED"
                log("INFO", "Crawl cancelled by StopCrawler.")
        except _CrawlFailed as exc:
            state, error = "FAILED", str(exc)
            log("ERROR", error)
        except Exception as exc:  # a bug of ours must still end the crawl
            state, error = "FAILED", f"Internal error of the local crawler: {exc!r}"
            log("ERROR", error)
        crawl.runtime_seconds = time.monotonic() - crawl.started
        s = crawl.summary
        log("BENCHMARK", f"Finished writing to Catalog: {s.tables_created} table(s) created, "
                         f"{s.tables_updated} updated, {s.tables_deleted} deleted; "
                         f"{s.partitions_added} partition(s) added, {s.partitions_deleted} deleted")
        with _LOCK:
            crawl.state = "STOPPING"
        persistence.changed("glue", wait=False)
        time.sleep(STOPPING_SECONDS)
        log("BENCHMARK", "Crawler has finished running and is in state READY")
        log.writer.flush()
        crawl.finish(state, error)

    def _crawl(self, crawler: FakeCrawler, crawl: LocalCrawl, log: CrawlLog) -> CrawlSummary:
        targets = crawler.targets or {}
        for kind in ("JdbcTargets", "DynamoDBTargets", "CatalogTargets", "MongoDBTargets",
                     "DeltaTargets", "IcebergTargets", "HudiTargets"):
            if targets.get(kind):
                log("WARN", f"{kind} are not crawled by the local cloud; only S3Targets are.")
        tables: list[TableDefinition] = []
        paths = []
        for target in targets.get("S3Targets") or []:
            path = target.get("Path", "")
            if crawl.cancel_requested:
                break
            try:
                objects = read_object_schemas(self.store, path)
            except NoSuchBucket:
                raise _CrawlFailed(f"S3 target {path}: bucket {split_s3_uri(path)[0]} does not exist. "
                                   "Create it or fix the crawler's S3Targets.") from None
            except ValueError as exc:
                raise _CrawlFailed(f"S3 target {path!r} is not an s3:// path: {exc}") from None
            paths.append(path)
            result = infer_tables(path, objects, target.get("Exclusions") or [],
                                  crawler.table_prefix or "")
            for item in result.skipped:
                log("WARN", f"Skipped s3://{split_s3_uri(path)[0]}/{item.key}: {item.reason}")
            if not result.tables:
                log("WARN", f"No Parquet data found under {path}.")
            tables += result.tables
        if crawl.cancel_requested:
            return CrawlSummary()
        return apply_to_catalog(self.catalog, crawler, tables, log, paths)

    # -- descriptions -----------------------------------------------------------------

    def describe(self, name: str) -> dict[str, Any]:
        """GetCrawler's ``Crawler``: moto's stored definition plus real state and LastCrawl."""
        crawler = self._crawler(name)
        out = {k: v for k, v in crawler.as_dict().items() if v is not None}
        out.pop("LastCrawl", None)
        crawls = [c for c in crawler.crawls if isinstance(c, LocalCrawl)]
        current = crawls[-1] if crawls else None
        out["State"] = {"RUNNING": "RUNNING", "STOPPING": "STOPPING"}.get(
            current.status if current else "", "READY")
        out["CrawlElapsedTime"] = (int((time.monotonic() - current.started) * 1000)
                                   if current and current.status in ("RUNNING", "STOPPING") else 0)
        done = [c for c in crawls if c.status in _LAST_CRAWL_STATUS]
        if done:
            last = done[-1]
            out["LastCrawl"] = {"Status": _LAST_CRAWL_STATUS[last.status],
                                "LogGroup": last.log_group, "LogStream": last.log_stream,
                                "MessagePrefix": last.message_prefix, "StartTime": last.start_time}
            if last.error_message:
                out["LastCrawl"]["ErrorMessage"] = last.error_message
        return out

    def metrics(self, name: str) -> dict[str, Any]:
        """GetCrawlerMetrics' entry for one crawler (counts of its last finished crawl)."""
        crawler = self._crawler(name)
        done = [c for c in crawler.crawls if isinstance(c, LocalCrawl) and c.finished.is_set()]
        running = bool(crawler.crawls) and crawler.crawls[-1].status in ("RUNNING", "STOPPING")
        last = done[-1] if done else None
        return {
            "CrawlerName": name,
            "TimeLeftSeconds": 0.0,
            "StillEstimating": running,
            "LastRuntimeSeconds": round(last.runtime_seconds, 3) if last else 0.0,
            "MedianRuntimeSeconds": round(statistics.median(c.runtime_seconds for c in done), 3)
            if done else 0.0,
            "TablesCreated": last.summary.tables_created if last else 0,
            "TablesUpdated": last.summary.tables_updated if last else 0,
            "TablesDeleted": last.summary.tables_deleted if last else 0,
        }


class _CrawlFailed(Exception):
    """The crawl cannot go on; the message becomes LastCrawl.ErrorMessage."""


_RUNNERS: dict[str, CrawlerRunner] = {}


def runner(region: str | None = None) -> CrawlerRunner:
    """The crawler runner of a region (one per process)."""
    region = region or get_settings().region
    with _LOCK:
        if region not in _RUNNERS:
            _RUNNERS[region] = CrawlerRunner(region)
        return _RUNNERS[region]
