"""The local Athena's share of the cloud's memory cap, and what keeps it inside.

``DELAB_CLOUD_MEMORY_MIB`` (default 2048, at least 768) caps the local cloud's
resident memory. The process itself (Python, moto, boto, pyarrow and DuckDB
loaded) takes about 0.25 GiB whatever it does; :data:`BASE_RESERVE_MIB` is kept for
it, and Athena's budgets are shares of the rest (the *usable* memory), so that
they sum well under the cap:

- DuckDB ``memory_limit``: 45 % of the usable memory (778 MiB of a 2 GiB cap).
  Joins, aggregates and sorts beyond it spill to ``temp_directory`` (a per-process
  folder under ``.delab/cloud/athena/``), at most ``DELAB_ATHENA_SPILL_MIB`` (default
  8192) of disk; a query that needs more fails with Athena's ``EXCEEDED_MEMORY_LIMIT``
  (:func:`exceeded_memory_error`).
- the native table cache (decoded tables kept as DuckDB tables): half of that; it
  lives in DuckDB's buffer pool, so it also spills rather than grows.
- the decoded-column cache (Arrow, per object version): 15 %.
- the remaining 40 %: what is in flight (batches being rendered or written, one per
  running query, requests, moto's objects). Results never pile up in memory: they
  stream from DuckDB in batches of about :attr:`Budget.batch_bytes` to a file
  (``spool``), which then becomes the S3 object; GetQueryResults reads a page of that
  object at a time.

``DELAB_ATHENA_CACHE_MIB`` / ``DELAB_ATHENA_NATIVE_CACHE_MIB`` still override the two
caches (then the cap holds only if they fit in it).
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from utils.cloud.athena.errors import RESOURCES_EXHAUSTED_TYPE, USER_ERROR, AthenaQueryError

DEFAULT_CAP_MIB = 2048
MIN_CAP_MIB = 768
BASE_RESERVE_MIB = 320
DEFAULT_SPILL_MIB = 8192
DUCKDB_SHARE = 0.45
COLUMN_CACHE_SHARE = 0.15
NATIVE_SHARE_OF_DUCKDB = 0.5
MAX_BATCH_BYTES = 16 * 2**20


def setting(name: str, default: str) -> str:
    """A setting from the environment, else the checkout's ``.env``, else ``default``."""
    if name in os.environ:
        return os.environ[name]
    from utils.config import _read_env_file  # the one .env parser (utils/config.py)

    return _read_env_file().get(name, default)


def _mib(name: str, default: int, low: int) -> int:
    raw = setting(name, str(default)).strip()
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < low:
        raise ValueError(f"{name} must be a whole number of MiB, at least {low} (got {raw!r}); "
                         "fix it in the environment or in .env")
    return value


@dataclass(frozen=True)
class Budget:
    """How the local Athena divides the cloud's memory cap (bytes)."""

    cap: int
    duckdb: int
    native_cache: int
    column_cache: int
    spill: int
    batch_bytes: int

    @property
    def cap_mib(self) -> int:
        """The cap in MiB, as set."""
        return self.cap // 2**20


def budget() -> Budget:
    """The budgets for the current settings (read once per engine)."""
    cap = _mib("DELAB_CLOUD_MEMORY_MIB", DEFAULT_CAP_MIB, MIN_CAP_MIB) * 2**20
    usable = cap - BASE_RESERVE_MIB * 2**20
    duck = int(usable * DUCKDB_SHARE)
    native = int(duck * NATIVE_SHARE_OF_DUCKDB)
    column = int(usable * COLUMN_CACHE_SHARE)
    if setting("DELAB_ATHENA_NATIVE_CACHE_MIB", ""):
        native = _mib("DELAB_ATHENA_NATIVE_CACHE_MIB", 0, 0) * 2**20
    if setting("DELAB_ATHENA_CACHE_MIB", ""):
        column = _mib("DELAB_ATHENA_CACHE_MIB", 0, 0) * 2**20
    spill = _mib("DELAB_ATHENA_SPILL_MIB", DEFAULT_SPILL_MIB, 0) * 2**20
    return Budget(cap=cap, duckdb=duck, native_cache=native, column_cache=column, spill=spill,
                  batch_bytes=min(MAX_BATCH_BYTES, cap // 64))


def duckdb_config(plan: Budget, temp_directory: Path, threads: int) -> dict[str, str]:
    """DuckDB settings that keep its memory inside its budget (spilling to disk beyond it)."""
    return {"threads": str(threads), "memory_limit": f"{plan.duckdb // 2**20}MiB",
            "temp_directory": str(temp_directory),
            "max_temp_directory_size": f"{max(plan.spill // 2**20, 1)}MiB"}


# --------------------------------------------------------------- work folders


def _work_root() -> Path:
    from utils.config import STATE_DIR

    return STATE_DIR / "cloud" / "athena"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def work_dir() -> Path:
    """This process's folder for DuckDB's spill files and result files being written.

    One folder per process (``work-<pid>``): several local clouds of one checkout
    (the daemon, a test run's in-process cloud) never touch each other's files.
    Folders left by processes that no longer run (a crash, ``kill -9``) are removed.
    """
    root = _work_root()
    mine = root / f"work-{os.getpid()}"
    if root.is_dir():
        for folder in root.glob("work-*"):
            try:
                pid = int(folder.name.split("-", 1)[1])
            except ValueError:
                continue
            if pid != os.getpid() and not _pid_alive(pid):
                shutil.rmtree(folder, ignore_errors=True)
    if not (mine / "spool").is_dir():
        (mine / "spool").mkdir(parents=True, exist_ok=True)
        atexit.register(shutil.rmtree, mine, True)  # ignore_errors: DuckDB may have removed its part
    return mine


# ------------------------------------------------------------------ failures


def succinct(size: float) -> str:
    """A byte count as Trino prints a DataSize (``716.80MB``, ``10B``; 1024-based units)."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{int(size)}{unit}" if float(size).is_integer() else f"{size:.2f}{unit}"
        size /= 1024
    return f"{size:.2f}PB"  # pragma: no cover - the loop always returns


_DUCK_USAGE = re.compile(r"\(([\d.]+) (\w+)/([\d.]+) (\w+) used\)")
_UNITS = {"bytes": 1, "B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}


def exceeded_memory_error(plan: Budget, duckdb_message: str) -> AthenaQueryError:
    """DuckDB ran out of memory (and of spill space): fail the query as Athena does."""
    first = duckdb_message.split("\n", 1)[0]
    allocated = ""
    match = _DUCK_USAGE.search(first)
    if match:
        used = float(match.group(1)) * _UNITS.get(match.group(2), 1)
        allocated = f" [Allocated: {succinct(round(used, 2))}]"
    spill = "its spill space on disk is full too; " if "max_temp_directory_size" in duckdb_message else ""
    message = (f"Query exceeded per-node memory limit of {succinct(plan.duckdb)}{allocated}. "
               f"That is the local Athena's share of DELAB_CLOUD_MEMORY_MIB={plan.cap_mib} ({spill}spill "
               f"limit DELAB_ATHENA_SPILL_MIB={plan.spill // 2**20}): filter or aggregate earlier, select "
               "fewer columns, or raise DELAB_CLOUD_MEMORY_MIB.")
    return AthenaQueryError("EXCEEDED_MEMORY_LIMIT", message, category=USER_ERROR,
                            error_type=RESOURCES_EXHAUSTED_TYPE)


# ------------------------------------------------------------------ batches


def _value_bytes(dtype: pa.DataType) -> int:
    """A rough width of one value, for sizing batches (variable-width types guessed)."""
    if pa.types.is_dictionary(dtype):
        return 4
    try:
        return max(dtype.bit_width // 8, 1)
    except ValueError:
        if pa.types.is_string(dtype) or pa.types.is_large_string(dtype) or pa.types.is_binary(dtype):
            return 64
        return 256  # nested: lists, structs, maps


def rows_per_batch(schema: pa.Schema, target_bytes: int) -> int:
    """Rows per streamed batch so that a batch is about ``target_bytes`` (1,024 to 32,768: string
    widths are guessed, and a batch of long strings must stay small too)."""
    width = sum(_value_bytes(f.type) for f in schema) or 1
    return max(1024, min(32_768, target_bytes // width))
