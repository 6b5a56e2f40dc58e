"""Fixtures for the classicmodels tests: a scratch database on the real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from utils.classicmodels.testing import scratch_database

QUIRKS_DUMP = Path(__file__).resolve().parents[1] / "data" / "classicmodels_quirks.sql"


@pytest.fixture(scope="module")
def scratch_db(request: pytest.FixtureRequest) -> Iterator[str]:
    """A private database for one test module, dropped at the end."""
    purpose = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_classicmodels_")[:20]
    with scratch_database(purpose) as name:
        yield name


@pytest.fixture(scope="session")
def quirks_dump() -> Path:
    """Path of the hand-written dump that carries every data quirk."""
    return QUIRKS_DUMP
