"""CloudWatch Logs written in-process (moto's logs backend), for job runs and crawls.

AWS Glue writes a job run's stdout to ``/aws-glue/jobs/output`` and its stderr to
``/aws-glue/jobs/error`` (one stream per run id), and a crawler's log to
``/aws-glue/crawlers`` (one stream per crawler). We write the same groups and
streams so ``aws logs tail`` / ``get-log-events`` work as on AWS.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from utils.cloud import persistence
from utils.config import LOCAL_ACCOUNT_ID

JOB_OUTPUT_GROUP = "/aws-glue/jobs/output"
JOB_ERROR_GROUP = "/aws-glue/jobs/error"
JOB_LOG_GROUP = "/aws-glue/jobs"
CRAWLER_LOG_GROUP = "/aws-glue/crawlers"

# CloudWatch rejects events over 256 KiB; a script printing a huge line must not
# break its own run, so long lines are cut.
MAX_EVENT_CHARS = 200_000

# moto's logs models are not thread-safe and job runs write from reader threads.
_LOCK = threading.Lock()


def _backend(region: str, account_id: str = LOCAL_ACCOUNT_ID) -> Any:
    from moto.logs.models import logs_backends

    return logs_backends[account_id][region]


def put_lines(group: str, stream: str, lines: list[tuple[int, str]], region: str) -> None:
    """Append ``(timestamp_ms, message)`` events to a stream, creating group and stream."""
    if not lines:
        return
    events = [{"timestamp": ts, "message": msg[:MAX_EVENT_CHARS]} for ts, msg in lines]
    events.sort(key=lambda e: e["timestamp"])  # PutLogEvents wants chronological order
    with _LOCK:
        backend = _backend(region)
        backend.ensure_log_group(group)
        backend.ensure_log_stream(group, stream)
        backend.put_log_events(group, stream, events)
    _changed(group, stream, region)


def ensure_stream(group: str, stream: str, region: str) -> None:
    """Create the group and stream now (AWS Glue opens both of a run's streams at its start)."""
    with _LOCK:
        backend = _backend(region)
        backend.ensure_log_group(group)
        backend.ensure_log_stream(group, stream)
    _changed(group, stream, region)


def _changed(group: str, stream: str, region: str) -> None:
    """Save the stream (and its group) soon; a run's last lines are waited for by its end."""
    from utils.cloud.moto_state import part_name

    persistence.changed("logs", part_name("group", LOCAL_ACCOUNT_ID, region, group),
                        part_name("stream", LOCAL_ACCOUNT_ID, region, group, stream), wait=False)


def now_ms() -> int:
    """The current time as CloudWatch event timestamps count it."""
    return int(time.time() * 1000)


class StreamWriter:
    """Buffers lines for one log stream and flushes them in small batches.

    Lines are flushed when the buffer is large or the last flush is older than
    ``interval`` seconds, so a running job's output appears in CloudWatch while
    it runs without one PutLogEvents per line for chatty scripts.
    """

    def __init__(self, group: str, stream: str, region: str, interval: float = 0.5,
                 max_lines: int = 500) -> None:
        self.group = group
        self.stream = stream
        self.region = region
        self.interval = interval
        self.max_lines = max_lines
        self._buffer: list[tuple[int, str]] = []
        self._last_flush = 0.0
        self._lock = threading.Lock()

    def write(self, line: str) -> None:
        """Add one line (its trailing newline is dropped)."""
        with self._lock:
            self._buffer.append((now_ms(), line.rstrip("\r\n")))
            due = (len(self._buffer) >= self.max_lines
                   or time.monotonic() - self._last_flush >= self.interval)
        if due:
            self.flush()

    def flush(self) -> None:
        """Send buffered lines to CloudWatch Logs."""
        with self._lock:
            batch, self._buffer = self._buffer, []
            self._last_flush = time.monotonic()
        put_lines(self.group, self.stream, batch, self.region)
