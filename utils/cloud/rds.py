"""RDS on the local cloud: the lab instance's endpoint is the local MariaDB.

moto records RDS instances with invented endpoints
(``<id>.aaaaaaaaaa.<region>.rds.amazonaws.com``). The lab's first step is

    aws rds describe-db-instances --db-instance-identifier de-c1w2-rds \\
        --output text --query "DBInstances[].Endpoint.Address"

followed by ``mysql --host=<that address>``, so the lab instance must answer with
an address and port where a MySQL server really listens. The instance here is
moto's own model, re-classed as ``LocalMariaDBInstance`` so its ``Endpoint``
reports the local MariaDB (``DELAB_DB_HOST`` / ``DELAB_DB_PORT``); moto still
serialises every response, so all other fields stay as moto renders them.

The local cloud keeps its state in memory, while MariaDB outlives it; so
DescribeDBInstances also (re)creates the lab instance when it is missing, and the
instance is there whenever a learner asks for it.

This module is also an aws CLI (v1) plugin, see :func:`awscli_initialize`: aws-cli v1
sends ``aws rds ...`` to ``https://rds.amazonaws.com`` even when
``AWS_ENDPOINT_URL`` is set (aws/aws-cli#8737), which would break the lab's first
step. It therefore imports moto lazily, to keep every ``aws`` command fast.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from utils.config import LOCAL_ACCOUNT_ID, PROJECT, RDS_INSTANCE_ID, Settings, get_settings

# What the course's Terraform creates (a small MySQL 8 instance); reported, not enforced.
LAB_ENGINE = "mysql"
LAB_ENGINE_VERSION = "8.0.39"
LAB_INSTANCE_CLASS = "db.t3.micro"


@functools.cache
def local_instance_class() -> type:
    """``LocalMariaDBInstance``: moto's DB instance whose endpoint is the local MariaDB."""
    from moto.rds.models import DBInstance

    class LocalMariaDBInstance(DBInstance):
        """moto's DB instance whose endpoint is a real, local MySQL-compatible server."""

        local_address: str = "127.0.0.1"

        @property
        def address(self) -> str:  # type: ignore[override]
            """The host where the local MariaDB listens (moto's is a made-up DNS name)."""
            return self.local_address

    # Importable as utils.cloud.rds.LocalMariaDBInstance (module __getattr__), so the
    # persisted RDS backend can be unpickled.
    LocalMariaDBInstance.__qualname__ = "LocalMariaDBInstance"
    LocalMariaDBInstance.__module__ = __name__
    return LocalMariaDBInstance


def __getattr__(name: str) -> Any:
    """``LocalMariaDBInstance`` is built on first use (moto's RDS models load slowly)."""
    if name == "LocalMariaDBInstance":
        return local_instance_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def endpoint_host(settings: Settings) -> str:
    """The address clients should use for the local MariaDB.

    ``localhost`` makes the mysql client and pymysql-compatible tools use a unix
    socket instead of TCP (and possibly another server's socket), so it is
    reported as ``127.0.0.1``.
    """
    host = settings.db_host or "127.0.0.1"
    return "127.0.0.1" if host == "localhost" else host


def point_at_local_mariadb(instance: Any, settings: Settings) -> Any:
    """Make a moto DB instance report the local MariaDB's address and port."""
    cls = local_instance_class()
    if not isinstance(instance, cls):
        instance.__class__ = cls
    instance.local_address = endpoint_host(settings)
    instance.port = settings.db_port
    return instance


def _backend(region: str) -> Any:
    from moto.rds.models import rds_backends

    return rds_backends[LOCAL_ACCOUNT_ID][region]


def ensure_lab_db_instance(settings: Settings | None = None) -> Any:
    """Create the lab instance ``de-c1w2-rds`` in the local RDS (in-process) unless it exists.

    Engine mysql, database ``classicmodels``, master user the configured admin user,
    endpoint = the local MariaDB. Idempotent: an existing instance (also one created
    over the API) is re-pointed at the current settings. No password is stored:
    the local cloud never hands out database secrets.
    """
    settings = settings or get_settings()
    backend = _backend(settings.region)
    instance = backend.databases.get(RDS_INSTANCE_ID)
    if instance is None:
        instance = backend.create_db_instance({
            "db_instance_identifier": RDS_INSTANCE_ID,
            "db_instance_class": LAB_INSTANCE_CLASS,
            "engine": LAB_ENGINE,
            "engine_version": LAB_ENGINE_VERSION,
            "db_name": settings.db_name,
            "master_username": settings.db_admin_user,
            "port": settings.db_port,
            "allocated_storage": 20,
            "publicly_accessible": True,
            "tags": [{"Key": "project", "Value": PROJECT}],
        })
        from utils.cloud import persistence

        persistence.changed("rds", wait=False)  # created while answering a read: save it too
    return point_at_local_mariadb(instance, settings)


def describe_db_instances(action: str, params: dict[str, str]) -> None:
    """Before moto answers DescribeDBInstances, make sure the lab instance exists and is local.

    Returns None so moto renders the response (with our instance's real endpoint).
    """
    settings = get_settings()
    wanted = params.get("DBInstanceIdentifier")
    if settings.is_local and wanted in (None, "", RDS_INSTANCE_ID):
        ensure_lab_db_instance(settings)
    return None


# -- aws CLI v1 plugin ------------------------------------------------------------------

# Commands for which aws-cli v1 replaces the endpoint with a fixed AWS host unless
# --endpoint-url is given (awscli/customizations/overridesslcommonname.py).
_CLI_FIXED_ENDPOINT_COMMANDS = ("rds", "docdb", "neptune", "sqs", "emr", "health")


def awscli_initialize(cli: Any) -> None:
    """aws CLI v1 plugin hook: honour ``AWS_ENDPOINT_URL`` for ``aws rds`` (and its siblings).

    Enable it with an aws config file (``AWS_CONFIG_FILE``) containing::

        [plugins]
        delab_endpoint = utils.cloud.rds

    Our handler runs before aws-cli's own (registered last), and only fills in
    ``--endpoint-url`` when the user gave none.
    """
    cli.register("before-building-argument-table-parser", _endpoint_from_environment)


def _endpoint_from_environment(parsed_globals: Any = None, **_: Any) -> None:
    if parsed_globals is None or getattr(parsed_globals, "endpoint_url", None) is not None:
        return
    command = getattr(parsed_globals, "command", "") or ""
    if command not in _CLI_FIXED_ENDPOINT_COMMANDS:
        return  # every other command already honours AWS_ENDPOINT_URL
    if os.environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() == "true":
        return
    url = os.environ.get(f"AWS_ENDPOINT_URL_{command.upper()}") or os.environ.get("AWS_ENDPOINT_URL")
    if url:
        parsed_globals.endpoint_url = url
