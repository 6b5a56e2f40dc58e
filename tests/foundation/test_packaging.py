"""The environment is pinned and environment.yml mirrors pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _norm(req: str) -> str:
    """Normalise the project name part (PEP 503), keep the version as written."""
    name, sep, version = req.strip().lower().partition("==")
    return re.sub(r"[-_.]+", "-", name) + sep + version


def _pyproject_requirements() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = data["project"]
    reqs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        reqs += extra
    return {_norm(r) for r in reqs}


def test_environment_yml_mirrors_pyproject() -> None:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    env_reqs = {_norm(r) for r in pip_section if not r.startswith("-e")}
    py_reqs = _pyproject_requirements()
    assert env_reqs == py_reqs, (
        f"only in environment.yml: {sorted(env_reqs - py_reqs)}; "
        f"only in pyproject.toml: {sorted(py_reqs - env_reqs)}")


def test_every_dependency_is_pinned_exactly() -> None:
    loose = [r for r in _pyproject_requirements() if "==" not in r]
    assert not loose, f"pin these with ==: {loose}"


def test_lock_file_agrees_with_pyproject_pins() -> None:
    lock = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            lock[_norm(name)] = version.strip()
    for req in _pyproject_requirements():
        name, version = req.split("==")
        name = re.sub(r"\[.*\]", "", name)
        assert lock.get(name) == version, f"{name}: pyproject pins {version}, lock has {lock.get(name)}"
