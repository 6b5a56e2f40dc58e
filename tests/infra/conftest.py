"""Fixtures for the infra tests: checkov in its own virtual environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from utils.config import STATE_DIR
from utils.etl.aws_runtime import GlueRuntimeError, ensure_venv
from utils.etl.aws_wheels import IndexUnreachable, check_index

CHECKOV_REQUIREMENTS = Path(__file__).with_name("checkov-requirements.txt")
CHECKOV_VENV = STATE_DIR / "checkov-venv"


def checkov_requirements() -> list[str]:
    """The frozen requirement lines of checkov-requirements.txt."""
    lines = CHECKOV_REQUIREMENTS.read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


@pytest.fixture(scope="session")
def checkov() -> Path:
    """The ``checkov`` executable, from ``.delab/checkov-venv`` (built from the index once).

    checkov cannot share the lab's environment (see checkov-requirements.txt), so it gets
    its own, rebuilt only when checkov-requirements.txt changes.
    """
    try:
        python = ensure_venv(CHECKOV_VENV, checkov_requirements(), no_deps=True)
    except GlueRuntimeError as exc:
        try:
            check_index()
        except IndexUnreachable as unreachable:
            pytest.skip(f"checkov not run: its environment is not built and {unreachable}")
        raise AssertionError(str(exc)) from None
    return python.parent / "checkov"
