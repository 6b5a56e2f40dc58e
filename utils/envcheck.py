"""A live check of the learner's environment, shown in the getting-started notebook."""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass
from importlib import metadata

from utils.config import Settings, get_settings

KEY_PACKAGES = ("jupyterlab", "ipywidgets", "pandas", "pyarrow", "matplotlib", "pymysql",
                "boto3", "awswrangler", "duckdb", "sqlglot", "moto", "papermill", "nbval")


@dataclass(frozen=True)
class Check:
    """One line of the environment check."""

    name: str
    ok: bool
    detail: str


def package_versions(names: tuple[str, ...] = KEY_PACKAGES) -> dict[str, str]:
    """Installed version of each package ('missing' when absent)."""
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "missing"
    return out


def check_python() -> Check:
    """Python 3.11 or newer."""
    ok = sys.version_info >= (3, 11)
    return Check("Python", ok, f"{platform.python_version()}" + ("" if ok else " (3.11+ needed)"))


def check_packages() -> Check:
    """Every key package importable."""
    versions = package_versions()
    missing = [n for n, v in versions.items() if v == "missing"]
    detail = ", ".join(f"{n} {v}" for n, v in versions.items())
    return Check("Packages", not missing, f"missing: {missing}; run `make lab`" if missing else detail)


def check_mariadb(settings: Settings) -> Check:
    """The source database answers (as the read-only ETL user) with its version."""
    from utils.services.mariadb import MariaDBError, server_version

    try:
        return Check("MariaDB", True, f"{server_version()} at {settings.db_host}:{settings.db_port}")
    except MariaDBError as exc:
        return Check("MariaDB", False, str(exc))


def check_cloud(settings: Settings) -> Check:
    """The AWS target answers an STS call (local cloud or real account)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    where = settings.endpoint_url if settings.is_local else f"AWS {settings.region}"
    try:
        account = boto3.client("sts", region_name=settings.region).get_caller_identity()["Account"]
    except (BotoCoreError, ClientError) as exc:
        hint = "start it with `make up`" if settings.is_local else "check your AWS credentials"
        return Check("AWS target", False, f"{where} did not answer ({exc}); {hint}.")
    return Check("AWS target", True, f"{settings.target}: account {account} via {where}")


def run_checks(settings: Settings | None = None) -> list[Check]:
    """Every check, in order; never raises for a failing service."""
    s = settings or get_settings()
    return [check_python(), check_packages(), check_mariadb(s), check_cloud(s)]


def report(checks: list[Check]) -> str:
    """A plain-text table of the checks."""
    width = max(len(c.name) for c in checks)
    return "\n".join(f"{'OK ' if c.ok else 'FAIL'} {c.name:<{width}}  {c.detail}" for c in checks)
