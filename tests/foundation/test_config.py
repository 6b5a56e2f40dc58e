"""Settings: environment first, then .env, then defaults; secrets generated once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from utils import config

ROOT = Path(__file__).resolve().parents[2]


def test_env_file_is_generated_once_and_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DELAB_DB_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("DELAB_DB_ETL_PASSWORD", raising=False)
    env_file = tmp_path / ".env"
    first = config.ensure_env_file(env_file)
    assert first["DELAB_DB_ADMIN_PASSWORD"] and first["DELAB_DB_ETL_PASSWORD"]
    assert first["DELAB_DB_ADMIN_PASSWORD"] != first["DELAB_DB_ETL_PASSWORD"]
    assert env_file.stat().st_mode & 0o077 == 0, ".env must be private to its owner"
    assert config.ensure_env_file(env_file) == first


def test_environment_wins_over_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DELAB_DB_PORT=3307\nDELAB_CLOUD_PORT=4577\n")
    monkeypatch.setattr(config, "ENV_FILE", env_file)
    monkeypatch.delenv("DELAB_DB_PORT", raising=False)
    monkeypatch.setenv("DELAB_CLOUD_PORT", "4999")
    s = config.get_settings()
    assert s.db_port == 3307          # from .env
    assert s.cloud_port == 4999       # the environment wins
    assert s.endpoint_url == "http://127.0.0.1:4999"


def test_bad_target_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DELAB_TARGET", "azure")
    with pytest.raises(ValueError, match="local.*aws"):
        config.get_settings()


def test_every_setting_is_documented_in_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in config.SETTINGS if f"`{name}`" not in readme]
    assert not missing, f"document these settings in README.md: {missing}"


def test_make_env_prints_only_export_lines() -> None:
    out = subprocess.run([sys.executable, "-m", "utils.cli", "env"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    lines = out.strip().splitlines()
    assert lines and all(line.startswith("export ") for line in lines), out
    assert any(line.startswith("export AWS_ENDPOINT_URL=http://127.0.0.1:") for line in lines)
