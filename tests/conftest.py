"""Shared fixtures.

``BASE_ENVIRONMENT`` is the environment the test run started with (``make test``
points it at the local cloud DAEMON that notebooks use). Fixtures that start an
in-process cloud change ``os.environ``; notebook kernels are started with
``BASE_ENVIRONMENT`` instead, so they always see the daemon and its provisioned lab.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from utils.teaching.notebook_client import quiet_output_widgets_everywhere

# Nothing a test runs (graders, quizzes, papermill, nbval, JupyterLab kernels) may touch the
# learner's progress record of this machine (utils.teaching.progress); tests that check the
# record turn it on with a temporary DELAB_PROGRESS_FILE.
os.environ["DELAB_PROGRESS"] = "off"
BASE_ENVIRONMENT = dict(os.environ)

# papermill, nbclient and the labgen tests run notebooks with Output widgets headless here:
# nbclient's widget mimic can hang a cell until its timeout (jupyter/nbclient#312).
quiet_output_widgets_everywhere()


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Replace ``os.environ`` with ``values`` for the block (child processes inherit it)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def daemon_cloud(base: Path, env: dict[str, str] | None = None) -> Iterator[Any]:
    """A persisted cloud of its own (``python -m utils.cloud serve --state-dir base/state``),
    AWS clients of the block pointed at it; stopped afterwards."""
    from utils.cloud.testing import SubprocessCloud

    cloud = SubprocessCloud(base / "state", base / "cloud.log", env=env or {})
    cloud.start(base_env=BASE_ENVIRONMENT)
    try:
        with environment({**BASE_ENVIRONMENT, **cloud.env}):
            yield cloud
    finally:
        cloud.stop()


@pytest.fixture(scope="session")
def local_cloud() -> str:
    """Start a local cloud in this process on a free loopback port; point AWS clients at it.

    The server runs in a thread of the test process, so tests can both call it over
    HTTP (boto3, awswrangler, the aws CLI) and inspect its stores in-process
    (``utils.cloud.backends``).
    """
    from utils.cloud.server import start_in_thread

    return start_in_thread()
