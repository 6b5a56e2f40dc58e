"""Grading the real C1W2 lab in the sandbox, attacks on its services, and ``kill -9`` of the grader.

- The C1W2 part 1 lab (MariaDB through RDS and Secrets Manager on the local cloud): the
  solution gets full marks through the gateway; a learner with the admin password, the
  MariaDB socket path and the cloud's write APIs gets nothing but refusals, and the source
  database and the ETL script are unchanged afterwards.
- ``kill -9`` of the grader in the middle of a batch: what was graded is in grades.csv, and
  every worker, launcher and kernel it had started is gone (checked by pid).
"""

from __future__ import annotations

import csv
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from tests.teaching.attacks import notebooks as sample
from utils.teaching import gradebook, sandbox

ROOT = sample.ROOT
C1W2_1 = "C1W2_1_source_system"


def _isolated() -> bool:
    return sandbox.capabilities().namespaces and sandbox.capabilities().root


@pytest.fixture(scope="module")
def c1w2_batch(tmp_path_factory):
    """The C1W2 part 1 solution and an attacker, graded once with the services behind the gateway."""
    from utils.cloud import provision
    from utils.config import get_settings
    from utils.services.mariadb import socket_path

    settings = get_settings()
    if not settings.is_local:
        pytest.skip("the gateway filters the local cloud only")
    provision.apply(settings, verbose=False)  # other tests may have reset the local cloud
    services = gradebook.grading_services()
    base = tmp_path_factory.mktemp("c1w2")
    submissions = base / "submissions"
    lab = nbformat.read(ROOT / "labs" / f"{C1W2_1}.ipynb", as_version=4)
    attack = sample.services_code(settings.db_admin_password or "", str(socket_path()), settings)
    connected = next(i for i, c in enumerate(lab.cells) if "conn = pymysql" in c.source)
    attacker = sample.with_cell(lab, attack, at=connected + 1)
    for learner, nb in (("solver", nbformat.read(ROOT / "solutions" / f"{C1W2_1}.ipynb", as_version=4)),
                        ("attacker", attacker)):
        (submissions / learner).mkdir(parents=True)
        nbformat.write(nb, submissions / learner / f"{C1W2_1}.ipynb")
    script_before = hashlib.sha256(services.policy.running_script()).hexdigest()
    source_before = gradebook._source_fingerprint()
    out = base / "report"
    code = gradebook.main([str(submissions), "--out", str(out), "--timeout", "240", "--jobs", "2"])
    with (out / "grades.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    executed = nbformat.read(out / "executed" / f"attacker__{C1W2_1}.ipynb", as_version=4)
    return {
        "code": code,
        "rows": rows,
        "html": (out / "report.html").read_text(encoding="utf-8"),
        "attacker": "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code"
                            for o in c.outputs),
        "script_unchanged": (hashlib.sha256(services.policy.running_script()).hexdigest()
                             == script_before == services.policy.shipped_script_sha256),
        "source_unchanged": gradebook._source_fingerprint() == source_before,
        "admin_password": settings.db_admin_password,
    }


def _total(batch, learner):
    return next(r for r in batch["rows"] if r["learner"] == learner and r["exercise"] == "TOTAL")


def test_the_c1w2_solution_gets_full_marks_in_the_sandbox(c1w2_batch):
    assert c1w2_batch["code"] == 0
    total = _total(c1w2_batch, "solver")
    assert (total["score"], total["max_score"], total["status"]) == ("4", "4", "graded"), total


def test_no_env_no_admin_no_root_no_socket_for_kernels(c1w2_batch):
    if not _isolated():
        pytest.skip("the gateway needs the sandbox (root and bubblewrap)")
    text = c1w2_batch["attacker"]
    assert "CONNECTED" not in text and "READ" not in text and "EXECUTED" not in text, text
    assert "blocked db admin (1045" in text and "only the read-only user" in text
    assert "blocked db root (1045" in text
    assert "blocked socket" in text
    assert f"blocked {ROOT / '.env'} FileNotFoundError" in text
    assert "blocked sql SELECT" in text and "blocked sql DELETE" in text  # no FILE, no writes: read-only user
    assert c1w2_batch["admin_password"] not in text
    total = _total(c1w2_batch, "attacker")
    assert total["score"] == "0" and total["max_score"] == "4"
    assert c1w2_batch["source_unchanged"]


def test_the_cloud_refuses_changes_and_runs_only_the_shipped_etl(c1w2_batch):
    if not _isolated():
        pytest.skip("the gateway needs the sandbox (root and bubblewrap)")
    text = c1w2_batch["attacker"]
    assert "CHANGED" not in text, text
    for attempt in ("glue:CreateJob", "glue:UpdateJob", "s3:PutObject scripts", "glue:StartJobRun args",
                    "secretsmanager:PutSecretValue", "athena:DROP"):
        assert f"blocked cloud {attempt} True" in text, attempt
    assert "refused: cloud: glue:CreateJob changes the lab&#x27;s resources" in c1w2_batch["html"]
    assert c1w2_batch["script_unchanged"]


# --- kill -9 of the grader -------------------------------------------------------------------


def _stat(pid: int) -> list[str]:
    """Fields of /proc/PID/stat after the command name ([0] is the state), or [] when gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def _descendants(pid: int) -> set[tuple[int, str]]:
    """(pid, start time) of every process below ``pid``: a pid reused later is another process."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            fields = _stat(child)
            if fields and (child, fields[19]) not in found:
                found.add((child, fields[19]))
                todo.append(child)
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _name(pid: int) -> str:
    """A process's command line, shortened, for messages."""
    return _cmdline(pid).replace(b"\0", b" ").decode(errors="replace")[:160]


def _alive(process: tuple[int, str]) -> bool:
    fields = _stat(process[0])
    return bool(fields) and fields[19] == process[1] and fields[0] != "Z"


def test_kill_9_of_the_grader_keeps_the_grades_done_and_leaves_no_process(tmp_path):
    submissions = tmp_path / "submissions"
    fast, slow = sample.solution(), sample.with_cell(sample.solution(), "import time\ntime.sleep(600)",
                                                     at=sample.after_ex1(sample.solution()))
    # Two workers: one grades the fast notebook, the other is running the slow one's kernel at the kill.
    for learner, nb in (("a_fast", fast), ("z_slow", slow)):
        (submissions / learner).mkdir(parents=True)
        nbformat.write(nb, submissions / learner / f"{sample.LAB}.ipynb")
    labs = tmp_path / "labs"
    labs.mkdir()
    nbformat.write(sample.lab(), labs / f"{sample.LAB}.ipynb")
    out = tmp_path / "report"
    grader = subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "utils.teaching.gradebook", str(submissions), "--out", str(out),
         "--labs", str(labs), "--graders", "tests.teaching.attacks.sample_graders", "--jobs", "2",
         "--timeout", "600", "--no-services"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 240
        seen: set[tuple[int, str]] = set()
        names: dict[int, str] = {}
        while time.monotonic() < deadline:
            seen |= _descendants(grader.pid)
            names.update({pid: _name(pid) for pid, _ in seen if pid not in names})
            text = (out / "grades.csv").read_text() if (out / "grades.csv").exists() else ""
            kernels_running = sum(1 for pid, _ in _descendants(grader.pid) if b"ipykernel" in _cmdline(pid))
            if text.count(",TOTAL,") == 1 and kernels_running >= 1:
                break
            time.sleep(0.3)
        else:
            output = grader.stdout.read1().decode()[-2000:]
            pytest.fail(f"the batch did not reach the slow notebooks: {output}")
        seen |= _descendants(grader.pid)
        names.update({pid: _name(pid) for pid, _ in seen if pid not in names})
        os.kill(grader.pid, signal.SIGKILL)
        grader.wait(timeout=10)
    finally:
        if grader.poll() is None:
            grader.kill()
    deadline = time.monotonic() + 30  # SIGKILL is immediate; a loaded machine may take a while to reap
    while time.monotonic() < deadline and any(_alive(pid) for pid in seen):
        time.sleep(0.2)
    survivors = {pid: f"state {(_stat(pid) or ['?'])[0]}, parent {(_stat(pid) or ['?', '?'])[1]}: "
                      f"{names.get(pid) or _name(pid)}" for pid, start in seen if _alive((pid, start))}
    assert not survivors, f"processes outlived the grader: {survivors}"
    # Also those that started after the last look: every kernel's command line names its job folder.
    workers = {f"{sandbox.STAGING_PREFIX}{pid}/".encode() for pid, _ in seen}
    pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
    late = [pid for pid in pids if any(w in _cmdline(pid) for w in workers)
            and (fields := _stat(pid)) and fields[0] != "Z"]
    assert late == [], f"sandboxes started as the grader died are still running: {late}"
    with (out / "grades.csv").open(newline="", encoding="utf-8") as handle:
        totals = {r["learner"]: r for r in csv.DictReader(handle) if r["exercise"] == "TOTAL"}
    assert {k: (v["score"], v["status"]) for k, v in totals.items()} == {"a_fast": ("3", "graded")}
    sandbox.remove_stale()  # what the next run does first: the killed workers' folders go
    leftovers = [p for p in Path("/tmp").glob(f"{sandbox.STAGING_PREFIX}*")  # noqa: S108
                 if p.name.split("-")[2] in {str(pid) for pid, _ in seen}]
    assert leftovers == []
