"""After a restart: job runs and crawls that were running when the cloud stopped.

Their thread died with the old process, so they would show RUNNING forever. Like a
Glue run lost by the service, they end FAILED with a message saying why; a job
script still running from before the crash (it runs in its own session, so it
outlives the cloud) is stopped, but only when its pid still belongs to the very
process we started (same start time), never a stranger that reused the pid.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from typing import Any

from utils.cloud.glue.crawler import LocalCrawl
from utils.cloud.glue.jobs import LocalJobRun, process_start_ticks, terminate

INTERRUPTED = ("The local cloud stopped while this run was {state} (make down, a crash or a "
               "restart), so the run did not finish. Start the job again.")
SHUT_DOWN = ("The local cloud was stopped (make down) while this run was {state}; its script "
             "was stopped too. Start the job again.")
CRAWL_INTERRUPTED = ("The local cloud stopped during this crawl (make down, a crash or a "
                     "restart). Start the crawler again.")


def _glue_backends() -> Iterator[Any]:
    from moto.glue.models import glue_backends

    for per_account in list(glue_backends.values()):
        yield from list(per_account.values())


def after_restart() -> tuple[int, int]:
    """End the runs and crawls a previous process left active; return how many of each."""
    runs = crawls = 0
    for backend in _glue_backends():
        for job in list(backend.jobs.values()):
            for run in job.job_runs:
                if isinstance(run, LocalJobRun) and run.is_active:
                    stop_orphan(run)
                    state = run.state
                    run.state = "FAILED" if state != "STOPPING" else "STOPPED"
                    run.error_message = INTERRUPTED.format(state=state)
                    run.set_state(run.state)
                    runs += 1
        for crawler in list(backend.crawlers.values()):
            for crawl in crawler.crawls:
                if isinstance(crawl, LocalCrawl) and crawl.state in ("RUNNING", "STOPPING"):
                    crawl.finish("FAILED", CRAWL_INTERRUPTED)
                    crawls += 1
    return runs, crawls


def stop_orphan(run: LocalJobRun) -> bool:
    """SIGTERM the script of a run started by a previous process, if it is still that script."""
    if not run.pid or run.process_start is None:
        return False
    if process_start_ticks(run.pid) != run.process_start:
        return False  # gone, or the pid now belongs to another process
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(run.pid, signal.SIGTERM)  # the script leads its own session
        return True
    return False


def stop_active_runs() -> int:
    """At a clean shutdown: stop the scripts of active runs (ours: we hold their process)."""
    stopped = 0
    for backend in _glue_backends():
        for job in list(backend.jobs.values()):
            for run in job.job_runs:
                if isinstance(run, LocalJobRun) and run.is_active:
                    state = run.state
                    run.stop_requested = True
                    terminate(run.process)
                    run.set_state("STOPPED", SHUT_DOWN.format(state=state))
                    stopped += 1
    return stopped
