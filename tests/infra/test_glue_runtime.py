"""The ETL job on what AWS Glue runs: its pins have wheels, and the job runs on exactly them.

infra/terraform/glue.tf makes the job a Glue 5.0 job (Python 3.11) whose
``--additional-python-modules`` pins are installed by pip when a run starts. Here:

- every pin is asked of the package index as a binary wheel for cp311 / glibc 2.34 / x86_64
  (skipped, saying why, when the index cannot be reached);
- the job runs end to end (MariaDB -> Parquet on S3, reconciled) in a second, small virtual
  environment holding only those pins (``.delab/glue-venv``, rebuilt when they change), and
  its star schema equals the one the lab's own environment builds.
"""

from __future__ import annotations

import ast
import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from utils.etl.aws_runtime import (
    JOB_SCRIPT,
    GlueRuntime,
    GlueRuntimeError,
    installed_versions,
    job_pins,
    job_runtime,
    locked_versions,
    pin_versions,
    pinned_requirements,
    pinned_venv,
)
from utils.etl.aws_wheels import (
    WHEELS_DIR,
    IndexUnreachable,
    check_dependencies,
    check_index,
    check_pins,
    report,
)
from utils.etl.job import STAR_TABLES

# Names of their own: moto's state is shared with the in-process local cloud of other tests.
_RUN = uuid.uuid4().hex[:8]
BUCKET = f"de-c1w2-glue-runtime-{_RUN}-data-lake"
SECRET = f"de-c1w2-glue-runtime-{_RUN}/etl-db-credentials"


@pytest.fixture(scope="module")
def index() -> str:
    """The package index URL, or a visible skip when it cannot be reached."""
    try:
        return check_index()
    except IndexUnreachable as exc:
        pytest.skip(f"wheel check not run: {exc}. Run `make check-wheels` where the index is reachable.")


def test_the_glue_runtime_runs_the_labs_python() -> None:
    runtime = job_runtime()
    assert (runtime.glue_version, runtime.python) == ("5.0", (3, 11))
    assert sys.version_info[:2] == runtime.python, "the tests must run on the Python AWS Glue runs"


def test_job_script_parses_as_the_glue_python() -> None:
    ast.parse(JOB_SCRIPT.read_text(), feature_version=job_runtime().python)


def test_every_pin_is_exact_and_names_what_the_job_imports() -> None:
    pins = pin_versions(job_pins())
    assert set(pins) == {"connectorx", "duckdb", "pyarrow", "pymysql"}


def test_pins_are_the_local_versions() -> None:
    """The pins equal requirements.lock exactly: the whole suite runs the AWS versions too."""
    locked = locked_versions()
    differ = {name: (version, locked.get(name)) for name, version in pin_versions(job_pins()).items()
              if locked.get(name) != version}
    assert not differ, f"glue.tf pins vs requirements.lock: {differ}"


def test_every_pin_resolves_to_a_binary_wheel_for_glue(index: str) -> None:
    runtime, pins = job_runtime(), job_pins()
    dest = WHEELS_DIR / f"glue-{runtime.glue_version}"
    results = check_pins(pins, runtime, dest)
    deps_ok, extra, reason = check_dependencies(pins, runtime, dest)
    text = report(runtime, index, results, deps_ok, extra, reason)
    print(text)
    assert all(r.ok for r in results) and deps_ok, text
    assert all(r.detail.endswith(".whl") and (runtime.abi in r.detail or "none-any" in r.detail)
               for r in results), text


def test_the_check_refuses_a_pin_without_a_wheel(index: str, tmp_path: Path) -> None:
    """The original defect: connectorx 0.4.6 on a Python shell job (Python 3.9, glibc 2.26)."""
    python_shell = GlueRuntime("pythonshell-3.9", (3, 9), (2, 26))
    [result] = check_pins(["connectorx==0.4.6"], python_shell, tmp_path)
    assert not result.ok
    assert "connectorx==0.4.6" in result.detail
    assert not list(tmp_path.glob("*.whl"))


# ----------------------------------------------------------- the job on the pinned versions


@pytest.fixture(scope="module")
def glue_python() -> Path:
    """``python`` of the pinned environment (built from the index once, then reused)."""
    try:
        return pinned_venv()
    except GlueRuntimeError as exc:
        try:
            check_index()
        except IndexUnreachable as unreachable:
            pytest.skip(f"pinned Glue environment not built: {unreachable}")
        raise AssertionError(str(exc)) from None


def test_the_pinned_environment_has_exactly_the_pins(glue_python: Path) -> None:
    wanted = pin_versions(pinned_requirements())
    assert installed_versions(glue_python, list(wanted)) == wanted
    # nothing from this project leaks in: the job must stand alone, as on Glue
    probe = subprocess.run([str(glue_python), "-c", "import utils"], capture_output=True, text=True,
                           cwd="/", check=False)
    assert probe.returncode != 0


@pytest.fixture(scope="module")
def source() -> Iterator[dict[str, object]]:
    """SF1 classicmodels in a private database, and a moto server with its secret and bucket."""
    from moto.server import ThreadedMotoServer

    from utils.classicmodels import generate, load_tables
    from utils.classicmodels.testing import scratch_database
    from utils.etl import source_config

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        with scratch_database("glue_runtime") as name:
            load_tables(generate(1), database=name)
            db = source_config("admin", database=name)
            endpoint = f"http://127.0.0.1:{port}"
            clients = {"endpoint_url": endpoint, "region_name": "us-east-1",
                       "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
            boto3.client("s3", **clients).create_bucket(Bucket=BUCKET)
            boto3.client("secretsmanager", **clients).create_secret(Name=SECRET, SecretString=json.dumps({
                "host": db.host, "port": db.port, "username": db.user, "password": db.password,
                "dbname": db.database}))
            yield {"endpoint": endpoint, "clients": clients}
    finally:
        server.stop()


def _run_job(python: Path, source: dict, prefix: str, workdir: Path) -> subprocess.CompletedProcess:
    """``python job.py`` as Glue starts it: a copy of the script, Glue-style arguments, no project."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DELAB_", "AWS_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(AWS_ENDPOINT_URL=str(source["endpoint"]), AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    script = workdir / "de-c1w2-etl-job.py"
    script.write_bytes(JOB_SCRIPT.read_bytes())
    return subprocess.run(
        [str(python), str(script), "--JOB_NAME", "de-c1w2-etl-job", "--JOB_RUN_ID", f"jr_{prefix}",
         "--target_path", f"s3://{BUCKET}/{prefix}/gold", "--staging_path", f"s3://{BUCKET}/{prefix}/etl-staging",
         "--db_secret", SECRET, "--region", "us-east-1", "--TempDir", f"s3://{BUCKET}/{prefix}/glue-temp/",
         "--job-bookmark-option", "job-bookmark-disable"],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=300, check=False)


def _star(source: dict, prefix: str) -> dict[str, object]:
    s3 = boto3.client("s3", **source["clients"])
    tables = {}
    for table in STAR_TABLES:
        body = s3.get_object(Bucket=BUCKET, Key=f"{prefix}/gold/{table}/{table}.parquet")["Body"].read()
        tables[table] = pq.read_table(pa.BufferReader(body))
    return tables


def test_the_job_runs_on_the_pinned_versions_as_on_the_local_ones(
        glue_python: Path, source: dict, tmp_path: Path) -> None:
    (tmp_path / "aws").mkdir()
    (tmp_path / "local").mkdir()
    on_glue = _run_job(glue_python, source, "aws", tmp_path / "aws")
    assert on_glue.returncode == 0, on_glue.stderr + on_glue.stdout
    for step in ("[extract] orderdetails: 2,996 rows", "[reconcile] ok   revenue per customer country",
                 "run jr_aws succeeded"):
        assert step in on_glue.stdout, step
    local = _run_job(Path(sys.executable), source, "local", tmp_path / "local")
    assert local.returncode == 0, local.stderr + local.stdout
    on_aws, here = _star(source, "aws"), _star(source, "local")
    for table in STAR_TABLES:
        assert on_aws[table].schema == here[table].schema, table
        assert on_aws[table].equals(here[table]), f"{table} differs between the pinned and the local versions"
    keys = {o["Key"] for o in boto3.client("s3", **source["clients"]).list_objects_v2(
        Bucket=BUCKET, Prefix="aws/")["Contents"]}
    assert keys == {f"aws/gold/{t}/{t}.parquet" for t in STAR_TABLES}, "staging files are removed"
