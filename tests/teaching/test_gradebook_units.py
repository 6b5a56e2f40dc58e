"""Units of the trusted grading side (no kernel): answers as data, matching, the gateway's rules."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import socket
import struct
import threading
import time
from decimal import Decimal
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from tests.teaching.attacks import notebooks as sample
from utils.teaching import answers, registry
from utils.teaching.gateway import CloudPolicy, MySQLGate, _packet, _read_packet
from utils.teaching.gradebook import protect_cells

# --- answers as data ------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    None, True, 3, 2**70, 1.5, "text", Decimal("12.34"), [1, "a"], (1, 2), {"b", "a"}, {"k": [1, 2], 3: None},
    dt.date(2004, 1, 2), dt.datetime(2004, 1, 2, 3, 4), dt.timedelta(seconds=5), np.int64(7),
])
def test_plain_values_round_trip(value):
    decoded = answers.decode(json.loads(json.dumps(answers.encode(value))))
    assert decoded == (value.item() if isinstance(value, np.generic) else value)


def test_frames_series_and_arrays_round_trip_without_pickle():
    frame = pd.DataFrame({"country": ["USA", "France"], "revenue": [Decimal("1.50"), Decimal("2.25")],
                          7: [1, 2]}, index=[10, 20])
    mask = pd.Series([True, False], index=[10, 20], name="keep")
    for value in (frame, mask):
        data = json.dumps(answers.encode(value))
        assert "pickle" not in data
        decoded = answers.decode(json.loads(data))
        pd.testing.assert_series_equal(decoded, value) if isinstance(value, pd.Series) else (
            pd.testing.assert_frame_equal(decoded, value, check_dtype=False))
    array = np.array([True, False, True])
    assert (answers.decode(answers.encode(array)) == array).all()


def test_unknown_tags_and_foreign_dataclasses_are_refused():
    with pytest.raises(ValueError, match="unknown value tag"):
        answers.decode({"$": "pickle", "v": "gASV"})
    with pytest.raises(ValueError, match="cannot be rebuilt"):
        answers.decode({"$": "dataclass", "type": "subprocess.Popen", "fields": {"args": "ls"}})
    with pytest.raises(TypeError):
        answers.encode(socket.socket())


def test_dataclasses_of_the_course_round_trip():
    from utils.teaching.dashboard import Selection

    selection = Selection("2004-01-01", "2004-06-30", country="France")
    assert answers.decode(json.loads(json.dumps(answers.encode(selection)))) == selection


def test_functions_are_exported_as_source_with_what_they_use(tmp_path):
    source = ("import math\nLIMIT = 3\ndef helper(x):\n    return math.floor(x) + LIMIT\n"
              "keep = lambda sales, selection: helper(sales) > selection  # the answer\n")
    namespace = _run_as_cell(source)
    answers.export(["keep", "LIMIT", "nothing"], str(tmp_path / "0001.json"), namespace)
    got, problems = answers.read_answers(tmp_path, ["keep", "LIMIT", "nothing"])
    assert problems == [] and got["LIMIT"] == 3 and isinstance(got["nothing"], answers.Missing)
    definition = got["keep"]
    assert isinstance(definition, answers.FunctionDefinition)
    assert set(definition.data["globals"]) == {"helper", "LIMIT", "math"}
    rebuilt = answers.build_function(json.loads(json.dumps(definition.data)))
    assert rebuilt(2.5, 4) is True and rebuilt(0.5, 4) is False


def test_a_library_function_is_named_not_taken_for_the_learners(tmp_path):
    from utils.teaching.dashboard import in_selection

    answers.export(["in_selection"], str(tmp_path / "0001.json"), {"in_selection": in_selection})
    got, _ = answers.read_answers(tmp_path, ["in_selection"])
    assert got["in_selection"].imported_from == "utils.teaching.dashboard.in_selection"


def test_answer_files_are_read_without_following_links(tmp_path):
    (tmp_path / "0001.json").symlink_to("/etc/passwd")
    got, problems = answers.read_answers(tmp_path, ["x"])
    assert got == {} and "answers could not be read" in problems[0]
    os.mkfifo(tmp_path / "0002.json")
    got, problems = answers.read_answers(tmp_path, ["x"])
    assert "not a regular file" in problems[1]


def _run_as_cell(source: str) -> dict:
    import linecache

    name = "<cell-for-test>"
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    namespace: dict = {"__name__": "__main__"}
    exec(compile(source, name, "exec"), namespace)  # noqa: S102 - the test's own code
    return namespace


# --- which notebook, which cells --------------------------------------------------------------


def test_notebooks_are_identified_by_metadata_name_or_grader_cells():
    import tests.teaching.attacks.sample_graders  # noqa: F401 - declares sample_lab

    calls = ["check_total_revenue(total_revenue)", "x = 1"]
    assert registry.identify({"delab": {"notebook": "sample_lab"}}, "whatever", [])[0] == "sample_lab"
    assert registry.identify({}, "sample_lab", [])[0] == "sample_lab"
    notebook, how = registry.identify({}, "final (2)", calls)
    assert notebook == "sample_lab" and "call 1 grader(s)" in how
    notebook, how = registry.identify({}, "final (2)", ["def check_total_revenue(x):\n    pass"])
    assert notebook is None and "no cell calls a declared grader" in how
    # A course notebook without graded exercises is still recognised, by metadata or file name.
    course = {"00_getting_started"}
    assert registry.identify({"delab": {"notebook": "00_getting_started"}}, "x (1)", [], course)[0] == (
        "00_getting_started")
    assert registry.identify({}, "00_getting_started", [], course)[0] == "00_getting_started"
    assert registry.identify({"delab": {"notebook": "not_ours"}}, "x (1)", [], course)[0] is None


def test_a_course_notebook_without_exercises_is_no_graded_exercises_not_needs_review(tmp_path):
    from utils.teaching import gradebook

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    pristine = sample.lab()
    pristine.metadata["delab"] = {"notebook": "00_welcome"}
    nbformat.write(pristine, notebooks / "00_welcome.ipynb")
    (tmp_path / "alice").mkdir()
    nbformat.write(pristine, tmp_path / "alice" / "renamed copy.ipynb")
    options = gradebook.GradingOptions(labs_dir=None, notebooks_dir=notebooks)
    grade = gradebook.grade_submission(gradebook.Submission(tmp_path / "alice" / "renamed copy.ipynb",
                                                            "alice", "renamed copy"), options)
    assert (grade.status, grade.reason, grade.max_score) == (
        "no graded exercises", "00_welcome has no graded exercises", 0)
    gradebook.write_csv([grade], tmp_path / "grades.csv")
    total = (tmp_path / "grades.csv").read_text().splitlines()[-1]
    assert total == "alice,,TOTAL,0,0,False,graded,", total


def test_protect_cells_matches_by_id_or_by_grader_call():
    import tests.teaching.attacks.sample_graders  # noqa: F401

    exercises = registry.exercises_for("sample_lab")
    lab = sample.lab()
    grader_cell = sample.index_of(lab, "check_total_revenue(total_revenue)")
    by_id = copy.deepcopy(lab)
    by_id.cells[grader_cell].source = "print('I passed')"
    protected, protection = protect_cells(by_id, lab, exercises)
    assert protected.cells[grader_cell].source == "check_total_revenue(total_revenue)"
    assert "1 read-only cell(s)" in protection.notes[0] and protection.missing == {}
    new_ids = sample.renumbered(lab)
    new_ids.cells[grader_cell].source = "check_total_revenue(total_revenue) or forge()"
    protected, protection = protect_cells(new_ids, lab, exercises)
    assert protected.cells[grader_cell].source == "check_total_revenue(total_revenue)"
    assert protection.grader_cells["ex1_total_revenue"] == grader_cell
    del new_ids.cells[sample.index_of(new_ids, "check_revenue_by_customer(")]
    _, protection = protect_cells(new_ids, lab, exercises)
    assert protection.missing == {"ex2_revenue_by_customer": "check_revenue_by_customer(...)"}


# --- the cloud gateway's rules ------------------------------------------------------------------

POLICY = CloudPolicy(job_name="job", crawler_name="crawler", glue_database="db", data_lake_bucket="lake",
                     scripts_bucket="scripts")


def _json(target: str, body: dict) -> tuple[str, str, dict, bytes]:
    return "POST", "/", {"X-Amz-Target": target}, json.dumps(body).encode()


@pytest.mark.parametrize(("request_", "allowed"), [
    (_json("AWSGlue.GetJob", {"JobName": "job"}), True),
    (_json("AWSGlue.CreateJob", {"Name": "evil"}), False),
    (_json("AWSGlue.UpdateJob", {"JobName": "job"}), False),
    (_json("AWSGlue.StartJobRun", {"JobName": "job"}), True),
    (_json("AWSGlue.StartJobRun", {"JobName": "job", "Arguments": {"--target_path": "s3://x"}}), False),
    (_json("AWSGlue.StartJobRun", {"JobName": "other"}), False),
    (_json("AWSGlue.StartCrawler", {"Name": "crawler"}), True),
    (_json("AWSGlue.DeleteTable", {"DatabaseName": "db", "Name": "temp_table_0a1b"}), True),
    (_json("AWSGlue.DeleteTable", {"DatabaseName": "db", "Name": "fact_orders"}), False),
    (_json("AmazonAthena.StartQueryExecution", {"QueryString": "-- c\n SELECT 1"}), True),
    (_json("AmazonAthena.StartQueryExecution",
           {"QueryString": 'CREATE TABLE "db"."temp_table_ab12" AS SELECT 1'}), True),
    (_json("AmazonAthena.StartQueryExecution", {"QueryString": "DROP TABLE fact_orders"}), False),
    (_json("AmazonAthena.StartQueryExecution", {"QueryString": "SELECT 1; DROP TABLE x"}), False),
    (_json("secretsmanager.GetSecretValue", {}), True),
    (_json("secretsmanager.PutSecretValue", {}), False),
    (("POST", "/", {"Content-Type": "application/x-www-form-urlencoded",
                    "Authorization": "AWS4 Credential=testing/20240101/us-east-1/rds/aws4_request"},
      b"Action=ModifyDBInstance&MasterUserPassword=x"), False),
    (("GET", "/scripts/de-c1w2-etl-job.py", {}, b""), True),
    (("PUT", "/scripts/de-c1w2-etl-job.py", {}, b"evil"), False),
    (("PUT", "/lake/gold/fact_orders/part.parquet", {}, b"x"), False),
    (("PUT", "/lake/athena-results/q.csv", {}, b"x"), True),
    (("PUT", "/delab-lesson07-grader-1a2b/files/a.csv", {}, b"x"), True),  # a lesson's own bucket
    (("DELETE", "/scripts", {}, b""), False),
    (_json("AmazonSQS.SendMessage", {"QueueUrl": "q"}), True),
    (("POST", "/lake?delete", {}, b"<Delete><Object><Key>athena-results/a</Key></Object></Delete>"), True),
    (("POST", "/lake?delete", {}, b"<Delete><Object><Key>gold/a</Key></Object></Delete>"), False),
])
def test_the_cloud_policy_lets_reads_and_the_labs_needs_pass_only(request_, allowed):
    assert (POLICY.refusal(*request_) is None) == allowed, POLICY.refusal(*request_)


_SQL = b"SELECT 1 AS orderNumber"
_SHA = __import__("hashlib").sha256(_SQL).hexdigest()[:16]


@pytest.mark.parametrize(("request_", "why"), [
    (("PUT", f"/lake/transforms/fact_orders-{_SHA}.sql", {}, _SQL), None),
    (("PUT", f"/lake/transforms/dim_products-{_SHA}.sql", {}, _SQL), None),
    (("PUT", f"/lake/transforms/fact_orders-{_SHA}.sql", {}, b"SELECT 2"), "SHA-256 of its content"),
    (("PUT", f"/lake/transforms/secrets-{_SHA}.sql", {}, _SQL), "only Athena results"),
    (("PUT", f"/lake/transforms/fact_orders-{_SHA}.sql?acl", {}, _SQL), "only Athena results"),
    (_json("AWSGlue.StartJobRun", {"JobName": "job", "Arguments": {
        "--fact_orders_sql_uri": f"s3://lake/transforms/fact_orders-{_SHA}.sql"}}), None),
    (_json("AWSGlue.StartJobRun", {"JobName": "job", "Arguments": {
        "--fact_orders_sql_uri": f"s3://lake/transforms/dim_products-{_SHA}.sql"}}), "--fact_orders_sql_uri"),
    (_json("AWSGlue.StartJobRun", {"JobName": "job", "Arguments": {
        "--fact_orders_sql_uri": f"s3://evil/transforms/fact_orders-{_SHA}.sql"}}), "--fact_orders_sql_uri"),
    (_json("AWSGlue.StartJobRun", {"JobName": "job", "Arguments": {
        "--fact_orders_sql_uri": f"s3://lake/transforms/fact_orders-{_SHA}.sql", "--target_path": "s3://lake/gold"}}),
     "--target_path"),
    (_json("AWSGlue.StartJobRun", {"JobName": "job", "Arguments": {"--db_secret": "other"}}), "--db_secret"),
])
def test_the_lab_part_2_transforms_pass_the_gateway_and_nothing_else(request_, why):
    refusal = POLICY.refusal(*request_)
    assert refusal is None if why is None else why in refusal, refusal


def test_a_job_run_started_while_grading_publishes_to_the_submissions_scratch_target(tmp_path):
    import dataclasses

    from utils.teaching.gateway import Gateway, _aws_chunked

    gateway = Gateway(tmp_path, cloud=("127.0.0.1", 1), policy=POLICY, scratch="123-job-1-ab")
    try:
        policy = gateway.policy
        assert policy.scratch_target == "s3://lake/grading/123-job-1-ab/gold"
        assert POLICY.scratch_target is None  # the batch's policy is not changed
        run = {"JobName": "job", "Arguments": {"--x_sql_uri": "u"}}
        _, _, headers, body = _json("AWSGlue.StartJobRun", run)
        assert json.loads(policy.rewritten(headers, body))["Arguments"] == {
            "--x_sql_uri": "u", "--target_path": "s3://lake/grading/123-job-1-ab/gold"}
        assert policy.rewritten({"X-Amz-Target": "AWSGlue.GetJob"}, b"{}") == b"{}"
        assert dataclasses.replace(policy, scratch_target=None).rewritten(headers, body) == body
    finally:
        gateway.close()
    chunked = b"5;chunk-signature=ab\r\nSELEC\r\n2\r\nT1\r\n0\r\nx-amz-checksum-crc32:AAAA\r\n\r\n"
    assert _aws_chunked(chunked) == b"SELECT1"


def test_the_etl_job_runs_only_while_its_script_is_the_shipped_one():
    class Pinned(CloudPolicy):
        script = b"print('shipped')"

        def running_script(self) -> bytes:
            return self.script

    import hashlib

    shipped = hashlib.sha256(b"print('shipped')").hexdigest()
    policy = Pinned(**{**POLICY.__dict__, "shipped_script_sha256": shipped, "endpoint_url": "http://127.0.0.1:1"})
    run = _json("AWSGlue.StartJobRun", {"JobName": "job"})
    assert policy.refusal(*run) is None
    policy.script = b"print('replaced by a learner')"
    assert "not the shipped ETL script" in policy.refusal(*run)


# --- the database gateway -------------------------------------------------------------------------


def _fake_server(listener: socket.socket, seen: list[bytes]) -> None:
    """A MySQL-ish server: greets (TLS offered), reads the login, says OK, records commands."""
    connection, _ = listener.accept()
    greeting = b"\x0a" + b"10.11-fake\x00" + struct.pack("<I", 1) + b"12345678" + b"\x00" + struct.pack(
        "<H", 0xFFFF) + b"\x21" + b"\x02\x00" + b"\xff\xff" + b"\x00" * 10
    connection.sendall(_packet(0, greeting))
    try:
        while True:
            seq, payload = _read_packet(connection)
            seen.append(payload)
            connection.sendall(_packet(seq + 1, b"\x00\x00\x00\x02\x00\x00\x00"))
    except (ConnectionError, OSError):
        pass


def _login(user: str) -> bytes:
    header = struct.pack("<I", 0x000FA685) + struct.pack("<I", 1 << 24) + b"\x21" + b"\x00" * 23
    return header + user.encode() + b"\x00"


@pytest.mark.parametrize("user", ["etl_reader", "admin", "root"])
def test_the_db_gateway_lets_only_the_read_only_user_in(user):
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []
    threading.Thread(target=_fake_server, args=(listener, seen), daemon=True).start()
    refused: list[str] = []
    gate = MySQLGate("127.0.0.1", listener.getsockname()[1], "etl_reader", refused)
    client, served = socket.socketpair()
    threading.Thread(target=gate.handle, args=(served,), daemon=True).start()
    _, greeting = _read_packet(client)
    flags = struct.unpack_from("<H", greeting, greeting.index(b"\x00", 1) + 1 + 4 + 8 + 1)[0]
    assert not flags & 0x800, "TLS must not be offered: it would hide the login"
    client.sendall(_packet(1, _login(user)))
    _, answer = _read_packet(client)
    if user != "etl_reader":
        assert answer[:1] == b"\xff" and struct.unpack_from("<H", answer, 1)[0] == 1045
        assert "only the read-only user" in answer.decode(errors="replace")
        assert refused and not seen
        return
    assert answer[:1] == b"\x00"
    client.sendall(_packet(0, b"\x03SELECT 1"))  # COM_QUERY passes
    _read_packet(client)
    client.sendall(_packet(0, b"\x11admin\x00"))  # COM_CHANGE_USER does not
    _, answer = _read_packet(client)
    assert answer[:1] == b"\xff" and b"changing the user" in answer
    assert seen[-1] == b"\x03SELECT 1"


def test_stale_staging_of_dead_workers_is_removed(tmp_path):
    from utils.teaching import sandbox

    dead = tmp_path / f"{sandbox.STAGING_PREFIX}999999999"
    alive = tmp_path / f"{sandbox.STAGING_PREFIX}{os.getpid()}"
    for folder in (dead, alive):
        (folder / "job-1").mkdir(parents=True)
    sandbox.remove_stale(tmp_path)
    assert not dead.exists() and alive.exists()
    assert Path(sandbox.__file__).read_text().count("import ") < 40  # the launcher stays light


_FAKE_WORKER = """
import subprocess, sys, time
from utils.teaching.sandbox import join_cgroup
join_cgroup(sys.argv[1])  # what _init_worker does first
# No parent-death signal, own session: what a signal armed too late (bwrap's clone) leaves behind.
orphan = subprocess.Popen(["sleep", "600"], start_new_session=True)
print("orphan", orphan.pid, flush=True)
time.sleep(600)
"""
_FAKE_GRADER = """
import subprocess, sys, time
from utils.teaching import sandbox
reaper = sandbox.Reaper.start()
worker = subprocess.Popen([sys.executable, "-c", sys.argv[1], reaper.join])
reaper.register([worker.pid])
print("worker", worker.pid, flush=True)
print("cgroup", reaper.cgroup or "-", flush=True)
time.sleep(600)
"""


def _gone(path: Path, timeout: float) -> bool:
    """True once ``path`` (/proc/PID or a cgroup) is gone, or the process a zombie, within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if (path / "stat").exists() and (path / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return True
        except OSError:
            pass
        if not path.exists():
            return True
        time.sleep(0.05)
    return False


def test_the_reaper_kills_what_escaped_the_parent_death_signals_when_the_grader_is_killed():
    import signal
    import subprocess
    import sys

    grader = subprocess.Popen([sys.executable, "-c", _FAKE_GRADER, _FAKE_WORKER], cwd=sample.ROOT,  # noqa: S603
                              stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(sample.ROOT)})
    seen = {}
    try:
        while len(seen) < 3:
            key, value = grader.stdout.readline().decode().split()
            seen[key] = value
        os.kill(grader.pid, signal.SIGKILL)
        grader.wait()
        assert _gone(Path(f"/proc/{seen['worker']}"), 10), "the registered worker outlived the grader"
        if seen["cgroup"] == "-":  # no root or no v1 pids hierarchy: parent-death signals only
            os.kill(int(seen["orphan"]), signal.SIGKILL)
            pytest.skip("no batch cgroup here: only registered processes are reaped")
        assert _gone(Path(f"/proc/{seen['orphan']}"), 10), "a process of the batch cgroup outlived the grader"
        assert _gone(Path(seen["cgroup"]), 10), "the reaper left its cgroup behind"
    finally:
        if grader.poll() is None:
            grader.kill()


_JOB_GRADER = """
import os, subprocess, sys, time
from utils.teaching import sandbox
reaper = sandbox.Reaper.start()
worker = subprocess.Popen(["sleep", "600"])  # a worker that died of its parent-death signal, say
reaper.register([worker.pid], workers=True)
uid = sandbox.UID_BASE + ((worker.pid & 0x3FFFFF) << 8) + 1  # its first job's uid
def demote():
    os.setgid(uid)
    os.setuid(uid)
job = subprocess.Popen(["sleep", "600"], preexec_fn=demote, start_new_session=True)  # in no batch cgroup
print("worker", worker.pid, flush=True)
print("job", job.pid, flush=True)
time.sleep(600)
"""


def test_without_a_batch_cgroup_the_reaper_kills_what_runs_as_the_workers_job_uids():
    import signal
    import subprocess
    import sys

    if os.geteuid() != 0:
        pytest.skip("jobs get their own uid only when the grader is root")
    grader = subprocess.Popen([sys.executable, "-c", _JOB_GRADER], cwd=sample.ROOT,  # noqa: S603
                              stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(sample.ROOT)})
    seen = {}
    try:
        while len(seen) < 2:
            key, value = grader.stdout.readline().decode().split()
            seen[key] = value
        os.kill(grader.pid, signal.SIGKILL)
        grader.wait()
        assert _gone(Path(f"/proc/{seen['worker']}"), 10)
        assert _gone(Path(f"/proc/{seen['job']}"), 10), "a process with a job uid of the batch survived"
    finally:
        if grader.poll() is None:
            grader.kill()
        for pid in seen.values():
            with __import__("contextlib").suppress(OSError):
                os.kill(int(pid), signal.SIGKILL)


def test_after_a_normal_batch_the_reaper_kills_nothing_and_removes_its_cgroup():
    import subprocess

    from utils.teaching import sandbox

    reaper = sandbox.Reaper.start()
    sleeper = subprocess.Popen(["sleep", "60"])  # noqa: S607
    try:
        reaper.register([sleeper.pid])
        reaper.close()
        assert reaper.process.returncode == 0 and sleeper.poll() is None
        assert reaper.cgroup is None or not reaper.cgroup.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


# --- learner functions called from the grading side -----------------------------------------------


def _runner(tmp_path):
    import subprocess
    import sys

    def start():
        # Not -I as in the gradebook's sandbox: this test's grader module lives in tests/.
        return subprocess.Popen([sys.executable, "-m", "utils.teaching.answers", "serve"],  # noqa: S603
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(sample.ROOT)})

    return answers.FunctionRunner(start)


def test_a_learner_function_raises_what_it_raised_and_live_objects_send_grading_to_the_sandbox(tmp_path):
    namespace = _run_as_cell("def shares(x):\n    if not 0 <= x <= 1:\n"
                             "        raise ValueError('a fraction')\n    return x * 2\n")
    answers.export(["shares"], str(tmp_path / "0001.json"), namespace)
    got, _ = answers.read_answers(tmp_path, ["shares"])
    runner = _runner(tmp_path)
    try:
        function = answers.LearnerFunction(got["shares"], runner)
        assert function(0.25) == 0.5
        with pytest.raises(ValueError, match="a fraction") as raised:  # a grader's `except ValueError` works
            function(80)
        assert isinstance(raised.value, answers.LearnerError) and "line 3" in raised.value.learner_where
        with pytest.raises(answers.NeedsSandbox):
            function(socket.socket())
    finally:
        runner.close()


def test_the_sandbox_can_grade_an_exercise_itself(tmp_path):
    runner = _runner(tmp_path)
    try:
        data = runner.grade("sample_lab", "ex1_total_revenue", {"total_revenue": 350}, timeout=60,
                            modules=["tests.teaching.attacks.sample_graders"])
    finally:
        runner.close()
    assert data["passed"] and data["score"] == 1 and data["exercise"] == "ex1_total_revenue"


# --- nbclient's Output-widget mimic while grading -----------------------------------------------


def test_output_widgets_never_write_to_the_kernels_shell_channel_while_grading():
    """The send that raced the wait for execute_reply (lesson 06 hung until its timeout) is gone."""
    from nbclient import NotebookClient
    from nbformat.v4 import new_notebook

    from utils.teaching.notebook_client import quiet_output_widgets

    class Shell:
        sent: list = []

        def send(self, msg):
            self.sent.append(msg)

    class Client:
        shell_channel = Shell()
        session = type("Session", (), {"msg": staticmethod(lambda *a, **k: {"a": a, "k": k})})()

    client = NotebookClient(new_notebook())
    client.kc = Client()
    quiet_output_widgets(client)
    state = {"_model_module": "@jupyter-widgets/output", "_model_name": "OutputModel", "outputs": []}
    opened = {"msg_type": "comm_open", "content": {"comm_id": "c1", "target_name": "jupyter.widget",
                                                   "data": {"state": state}}, "parent_header": {}}
    client.handle_comm_msg([], opened, 0)
    widget = client.comm_objects["c1"]
    printed = {"msg_type": "stream", "header": {"msg_type": "stream"}, "parent_header": {"msg_id": "m"},
               "content": {"name": "stdout", "text": "ranked\n"}}
    widget.output([], printed, None, 0)
    widget.clear_output([], {"parent_header": {}, "content": {"wait": False}}, 0)
    widget.output([], printed, None, 0)
    assert Client.shell_channel.sent == []
    assert client.widget_state["c1"]["outputs"][0]["text"] == "ranked\n"  # the executed notebook keeps it


def test_the_summary_table_has_a_row_per_learner_and_notebook_with_points_and_time():
    from utils.teaching.gradebook import SubmissionGrade, summary_table
    from utils.teaching.grading import GradeResult

    a = SubmissionGrade("alice", "C1W2_1_source_system", "a.ipynb", "graded", seconds=12.34,
                        results=[GradeResult("ex1", True, 2, 2, "ok"), GradeResult("ex2", False, 0, 2, "no")],
                        notebook="C1W2_1_source_system")
    b = SubmissionGrade("alice", "00_getting_started", "b.ipynb", "no graded exercises", seconds=0.01)
    lines = summary_table([a, b]).splitlines()
    assert lines[0].split() == ["learner", "notebook", "points", "status", "time"]
    assert lines[2].split() == ["alice", "00_getting_started", "0/0", "no", "graded", "exercises", "0.0", "s"]
    assert lines[3].split() == ["alice", "C1W2_1_source_system", "2/4", "graded", "12.3", "s"]
    assert lines[4].split() == ["alice", "TOTAL", "2/4", "12.3", "s"]


def test_every_notebook_client_of_the_test_run_uses_the_quiet_output_widget():
    """tests/conftest.py quiets papermill's and nbclient's clients too (make test once hung on
    lesson 06 under papermill: an idle kernel, a client waiting for its cell's reply)."""
    import nbclient.client
    from nbformat.v4 import new_notebook
    from papermill.clientwrap import PapermillNotebookClient

    from utils.teaching.notebook_client import QuietOutputWidget

    assert nbclient.client.OutputWidget is QuietOutputWidget
    for client in (nbclient.client.NotebookClient(new_notebook()),
                   PapermillNotebookClient(type("Man", (), {"nb": new_notebook()})())):
        assert client.widget_registry["@jupyter-widgets/output"]["OutputModel"] is QuietOutputWidget
