"""Two checkouts on one machine, each with its own ports, never touch each other.

Two project roots (copies of ``utils/`` under a temporary directory) run the real
``python -m utils.cli`` in shells that carry NO port variables once their first ``up``
wrote ``.env``. Only the local clouds are started (``up --cloud-only``): MariaDB's record
is covered by tests/foundation/test_process_identity.py with a private server.

Every process started here is stopped in the fixture's ``finally``: by ``down``, then,
as a safety net, by the pid each record names when that process still works in the
temporary root (ours beyond doubt).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.foundation.private_mariadb import server_port
from utils.cloud.daemon import identity_of
from utils.config import PROJECT_ROOT
from utils.services import processes

pytestmark = pytest.mark.timeout(300)


@dataclass
class Checkout:
    """A project root of its own, and what the tests know about it."""

    name: str
    root: Path

    def cli(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120
            ) -> subprocess.CompletedProcess[str]:
        """Run ``python -m utils.cli ARGS`` in this checkout from a shell without port settings."""
        return subprocess.run([sys.executable, "-m", "utils.cli", *args], cwd=self.root,
                              env=_shell(self.root, env), capture_output=True, text=True,
                              timeout=timeout, check=False)

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """Like :meth:`cli` but in the background (two checkouts start at once)."""
        return subprocess.Popen([sys.executable, "-m", "utils.cli", *args], cwd=self.root,
                                env=_shell(self.root, env), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

    def env_file(self) -> str:
        return (self.root / ".env").read_text()

    def setting(self, name: str) -> str:
        values = dict(line.split("=", 1) for line in self.env_file().splitlines()
                      if "=" in line and not line.startswith("#"))
        return values[name]

    def record(self, service: str = "cloud") -> dict[str, Any] | None:
        path = self.root / ".delab" / "run" / f"{service}.json"
        return json.loads(path.read_text()) if path.exists() else None

    def plant(self, record: dict[str, Any], service: str = "cloud") -> None:
        path = self.root / ".delab" / "run" / f"{service}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record))


def _shell(root: Path, extra: dict[str, str] | None) -> dict[str, str]:
    """A fresh shell's environment: nothing of any checkout (no DELAB_*, no AWS_*)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DELAB_", "AWS_")) and k not in ("PYTHONPATH", "COVERAGE_PROCESS_START")}
    env["PYTHONPATH"] = str(root)
    return {**env, **(extra or {})}


def _stop_leftovers(checkout: Checkout) -> None:
    """Safety net: kill what a record names if it still works in this temporary root."""
    record = checkout.record()
    if not record:
        return
    pid = record["pid"]
    if processes.cwd(pid) == str(checkout.root) and processes.start_ticks(pid) == record["start_ticks"]:
        for child in processes.descendants(pid):
            with contextlib.suppress(OSError):
                os.kill(child, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def checkouts() -> Iterator[tuple[Checkout, Checkout]]:
    """Two project roots that share nothing but this machine (and the venv's Python)."""
    base = Path(tempfile.mkdtemp(prefix="delab-two-checkouts-"))
    pair = []
    for name in ("a", "b"):
        root = base / name
        shutil.copytree(PROJECT_ROOT / "utils", root / "utils",
                        ignore=shutil.ignore_patterns("__pycache__"))
        pair.append(Checkout(name, root))
    try:
        yield pair[0], pair[1]
    finally:
        for checkout in pair:
            with contextlib.suppress(Exception):
                checkout.cli("down", timeout=60)
            _stop_leftovers(checkout)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture()
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """An unrelated live process that nothing may signal; ended by this fixture."""
    proc = subprocess.Popen(["sleep", "300"])  # noqa: S607 - coreutils sleep
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def _up_both(a: Checkout, b: Checkout, env_a: dict[str, str] | None = None,
             env_b: dict[str, str] | None = None) -> None:
    started = [a.start("up", "--cloud-only", env=env_a), b.start("up", "--cloud-only", env=env_b)]
    for proc in started:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, out
        assert "Traceback" not in out, out


def _buckets(port: int) -> set[str]:
    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")  # noqa: S106
    return {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_each_checkout_talks_only_to_its_own_cloud(checkouts: tuple[Checkout, Checkout]) -> None:
    a, b = checkouts
    port_a = server_port()
    port_b = server_port({port_a})
    # First `up`: ports given in the environment; they are remembered in each .env.
    _up_both(a, b, {"DELAB_CLOUD_PORT": str(port_a), "DELAB_DB_PORT": str(server_port({port_a, port_b}))},
             {"DELAB_CLOUD_PORT": str(port_b), "DELAB_DB_PORT": str(server_port({port_a, port_b}))})
    assert a.setting("DELAB_CLOUD_PORT") == str(port_a) and b.setting("DELAB_CLOUD_PORT") == str(port_b)
    for checkout in (a, b):
        assert "stopped" in checkout.cli("down").stdout

    # New shells without any port variable: each starts on its own remembered port.
    _up_both(a, b)
    id_a, id_b = identity_of(port_a), identity_of(port_b)
    assert id_a and id_a["project_root"] == str(a.root) and id_a["pid"] == a.record()["pid"]
    assert id_b and id_b["project_root"] == str(b.root) and id_b["pid"] == b.record()["pid"]
    assert f"export AWS_ENDPOINT_URL=http://127.0.0.1:{port_a}" in a.cli("env").stdout
    status = a.cli("status").stdout
    assert f"local cloud  http://127.0.0.1:{port_a}  up  pid {id_a['pid']}, started " in status
    assert "ours (identity verified)" in status

    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port_a}", region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")  # noqa: S106
    s3.create_bucket(Bucket="made-in-checkout-a")
    assert "made-in-checkout-a" in _buckets(port_a)
    assert "made-in-checkout-a" not in _buckets(port_b)

    # The cross-talk: B's port points at A's running cloud. B must not reuse it.
    assert "stopped" in b.cli("down").stdout
    (b.root / ".env").write_text(b.env_file().replace(f"DELAB_CLOUD_PORT={port_b}",
                                                      f"DELAB_CLOUD_PORT={port_a}"))
    moved = b.cli("up", "--cloud-only")
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert (f"Port {port_a} is held by the local cloud of checkout {a.root} (pid {id_a['pid']}): "
            "not ours, left alone. Our local cloud uses port ") in moved.stdout
    new_port = int(b.setting("DELAB_CLOUD_PORT"))
    assert new_port != port_a
    assert identity_of(new_port)["project_root"] == str(b.root)
    assert identity_of(port_a) == id_a  # A: same process, untouched
    assert "made-in-checkout-a" not in _buckets(new_port)


def test_records_pointing_at_other_processes_are_refused_and_never_signalled(
    checkouts: tuple[Checkout, Checkout], sleeper: subprocess.Popen[bytes]
) -> None:
    a, b = checkouts
    port_a, port_b = int(a.setting("DELAB_CLOUD_PORT")), int(b.setting("DELAB_CLOUD_PORT"))
    id_b = identity_of(port_b)
    assert id_b and identity_of(port_a), "the previous test leaves both clouds running"
    record_b = b.record()

    # B's record copied into A (written by another checkout).
    a.plant(record_b)
    status = a.cli("status")
    assert f"written by another checkout ({b.root})" in status.stdout
    up = a.cli("up", "--cloud-only")
    assert up.returncode == 0, up.stdout + up.stderr
    assert f"cloud record (pid {id_b['pid']}) was written by another checkout ({b.root}): not ours; " \
           "left alone, record removed." in up.stdout
    assert "found ours running without a record" in up.stdout  # A's own cloud, proven by identity
    assert identity_of(port_b) == id_b

    # A forged record: A's root, B's pid, start time and command. B works elsewhere: refused.
    a.plant({**record_b, "project_root": str(a.root), "cwd": str(a.root)})
    down = a.cli("down")
    refused = f"pid {id_b['pid']} works in {b.root}, not in {a.root}: another checkout's process"
    assert refused in down.stdout, (down.stdout, record_b, processes.cmdline(id_b["pid"]))
    assert identity_of(port_b) == id_b  # B's cloud was never signalled
    assert identity_of(port_a) is None  # A's own cloud (found by its identity) was stopped

    # Stale records and an old pid file naming an unrelated live process (`sleep`).
    ticks = processes.start_ticks(sleeper.pid)
    stale_cloud = {**record_b, "pid": sleeper.pid, "start_ticks": ticks, "project_root": str(a.root),
                   "cwd": str(a.root)}  # right pid and start time; not our command
    stale_db = {**stale_cloud, "service": "mariadb", "start_ticks": ticks + 1,
                "cmdline": ["/usr/sbin/mariadbd", f"--datadir={a.root}/.delab/mariadb/data"]}
    legacy = a.root / ".delab" / "cloud" / "cloud.pid"
    said = {}
    for command in ("status", "down", "up"):
        a.plant(stale_cloud)
        a.plant(stale_db, "mariadb")
        legacy.parent.mkdir(parents=True, exist_ok=True)
        legacy.write_text(str(sleeper.pid))
        result = a.cli(*([command, "--cloud-only"] if command == "up" else [command]))
        assert sleeper.poll() is None, f"`{command}` signalled an unrelated process"
        assert "Traceback" not in result.stdout + result.stderr
        said[command] = result.stdout
    assert f"not ours: cloud record (pid {sleeper.pid}) is stale: pid {sleeper.pid} runs another " \
           "command" in said["status"]
    for command in ("down", "up"):
        assert f"local cloud: cloud record (pid {sleeper.pid}) is stale: pid {sleeper.pid} runs another " \
               "command" in said[command]
        assert "left alone, record removed." in said[command]
    assert f"MariaDB: mariadb record (pid {sleeper.pid}) is stale: pid {sleeper.pid} was reused" \
        in said["down"]
    assert identity_of(port_a)["project_root"] == str(a.root)  # `up` started A's own cloud afresh
    assert identity_of(port_b) == id_b


def _wait_for(predicate: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def _start_sleeping_job(port: int) -> None:
    client = {"endpoint_url": f"http://127.0.0.1:{port}", "region_name": "us-east-1",
              "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}  # noqa: S106
    s3, glue = boto3.client("s3", **client), boto3.client("glue", **client)
    if "job-scripts" not in _buckets(port):
        s3.create_bucket(Bucket="job-scripts")
    s3.put_object(Bucket="job-scripts", Key="sleepy.py", Body=b"import time\ntime.sleep(300)\n")
    with contextlib.suppress(glue.exceptions.AlreadyExistsException):
        glue.create_job(Name="sleepy", Role="arn:aws:iam::123456789012:role/glue",
                        Command={"Name": "pythonshell", "ScriptLocation": "s3://job-scripts/sleepy.py",
                                 "PythonVersion": "3.9"})
    glue.start_job_run(JobName="sleepy")


def _job_process(cloud_pid: int) -> int:
    return _wait_for(lambda: next((p for p in processes.descendants(cloud_pid)
                                   if any("sleepy.py" in arg for arg in processes.cmdline(p) or [])),
                                  None))


def test_glue_job_processes_stop_with_their_cloud(checkouts: tuple[Checkout, Checkout]) -> None:
    a, b = checkouts
    port_a, port_b = int(a.setting("DELAB_CLOUD_PORT")), int(b.setting("DELAB_CLOUD_PORT"))
    id_b = identity_of(port_b)
    cloud = a.record()["pid"]
    _start_sleeping_job(port_a)
    job = _job_process(cloud)  # in a session of its own: a process group kill would miss it
    assert os.getsid(job) == job
    assert "stopped" in a.cli("down").stdout
    assert not processes.pid_alive(job) and not processes.pid_alive(cloud)

    # The cloud dies first (kill -9): its job lives on as an orphan carrying the cloud's tag.
    assert a.cli("up", "--cloud-only").returncode == 0
    record = a.record()
    _start_sleeping_job(port_a)
    job = _job_process(record["pid"])
    os.kill(record["pid"], signal.SIGKILL)  # our checkout's cloud, identified by its record
    _wait_for(lambda: not processes.pid_alive(record["pid"]))
    assert processes.pid_alive(job)
    down = a.cli("down")
    assert f"stopped 1 job process(es) left by the old cloud (pids {job}; they carried its tag)" \
        in down.stdout
    assert not processes.pid_alive(job)
    assert identity_of(port_b) == id_b


def test_a_cloud_started_by_an_older_version_is_adopted_and_restarted(
    checkouts: tuple[Checkout, Checkout]
) -> None:
    a, b = checkouts
    port_a, port_b = int(a.setting("DELAB_CLOUD_PORT")), int(b.setting("DELAB_CLOUD_PORT"))
    id_b = identity_of(port_b)
    assert identity_of(port_a) is None and a.record() is None  # the previous test stopped A's cloud
    # What the daemon did before #12: start the cloud, write its pid to .delab/cloud/cloud.pid.
    old = subprocess.Popen([sys.executable, "-m", "utils.cloud", "serve", "--port", str(port_a)],
                           cwd=a.root, env=_shell(a.root, None), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_for(lambda: identity_of(port_a))
        (a.root / ".delab" / "cloud" / "cloud.pid").write_text(str(old.pid))
        up = a.cli("up", "--cloud-only")
        assert up.returncode == 0, up.stdout + up.stderr
        assert f"local cloud: restarting pid {old.pid}, started by an older version of this checkout" \
            in up.stdout
        assert old.wait(30) is not None  # stopped as ours (verified), not left running
        new = identity_of(port_a)
        assert new and new["project_root"] == str(a.root) and new["pid"] == a.record()["pid"] != old.pid
        assert int(a.setting("DELAB_CLOUD_PORT")) == port_a  # same port, not moved
        assert identity_of(port_b) == id_b
    finally:
        if old.poll() is None:
            old.kill()
            old.wait()


def test_a_cloud_whose_code_changed_is_restarted_with_its_state(checkouts: tuple[Checkout, Checkout]) -> None:
    """`make up` after a pull or an edit serves the checkout's code, not the code it started with."""
    a, b = checkouts
    port_a, port_b = int(a.setting("DELAB_CLOUD_PORT")), int(b.setting("DELAB_CLOUD_PORT"))
    id_b = identity_of(port_b)
    assert a.cli("up", "--cloud-only").returncode == 0
    before = identity_of(port_a)
    assert before and before["code"]
    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port_a}", region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")  # noqa: S106
    s3.create_bucket(Bucket="kept-across-a-code-change")
    same = a.cli("up", "--cloud-only")
    assert "restarting" not in same.stdout and identity_of(port_a)["pid"] == before["pid"]
    lesson_helper = a.root / "utils" / "teaching" / "__init__.py"   # not cloud code: no restart
    lesson_helper.write_text(lesson_helper.read_text() + "\n# a lesson edit\n")
    assert "restarting" not in a.cli("up", "--cloud-only").stdout
    urls = a.root / "utils" / "cloud" / "urls.py"
    urls.write_text(urls.read_text() + "\n# an edit to the cloud's code\n")
    changed = a.cli("up", "--cloud-only")
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert (f"local cloud: restarting pid {before['pid']}: this checkout's code changed since it started "
            "(its state is kept).") in changed.stdout
    after = identity_of(port_a)
    assert after and after["pid"] == a.record()["pid"] != before["pid"] and after["code"] != before["code"]
    assert "kept-across-a-code-change" in _buckets(port_a)
    assert identity_of(port_b) == id_b  # the other checkout's cloud: same process, untouched
