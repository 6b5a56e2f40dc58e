"""What the ETL job runs on in AWS: the Glue runtime, its module pins, a local copy of both.

The job (``utils/etl/job.py``) is an AWS Glue **5.0** job (``glueetl``), chosen because
Glue 5.0 runs **Python 3.11**, the Python the lab runs locally (AWS Glue Python shell jobs
run Python 3.9, which reached end of life in October 2025 and for which connectorx 0.4 and
duckdb 2.x publish no wheels). docs/architecture.md ("Running on AWS Glue") says why.

The single source of the module pins is ``--additional-python-modules`` in
``infra/terraform/glue.tf``; :func:`job_pins` reads it from there, so the wheel check
(:mod:`utils.etl.aws_wheels`) and the pinned test environment (:func:`pinned_venv`) ask for
exactly what AWS Glue will install.

Facts about the runtime come from the AWS Glue developer guide, "Using Python libraries
with AWS Glue" (table "Glue version compatibility": Glue 5.0 = Python 3.11, Amazon Linux
2023, glibc 2.34), read 2026-10.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

from utils.config import PROJECT_ROOT, STATE_DIR

TERRAFORM_DIR = PROJECT_ROOT / "infra" / "terraform"
GLUE_TF = TERRAFORM_DIR / "glue.tf"
JOB_SCRIPT = PROJECT_ROOT / "utils" / "etl" / "job.py"

# Modules the job imports that AWS Glue 5.0 already provides and that the job does not pin
# (boto3 ships with every Glue version; the job only calls S3 Put/Copy/Head/Delete/List and
# Secrets Manager GetSecretValue, stable for a decade). The pinned test environment gets the
# version of requirements.lock, which it reads from there.
PREINSTALLED_ON_GLUE = ("boto3",)


@dataclass(frozen=True)
class GlueRuntime:
    """An AWS Glue job runtime: its Python and the platform its wheels must be built for."""

    glue_version: str
    python: tuple[int, int]
    glibc: tuple[int, int]
    arch: str = "x86_64"

    @property
    def python_version(self) -> str:
        """``3.11``."""
        return f"{self.python[0]}.{self.python[1]}"

    @property
    def abi(self) -> str:
        """CPython ABI tag, ``cp311``."""
        return f"cp{self.python[0]}{self.python[1]}"

    def platform_tags(self) -> list[str]:
        """Every manylinux tag this runtime's glibc can load, newest first.

        pip's ``--platform`` matches tags literally (``manylinux_2_28_x86_64`` does not
        admit a ``manylinux2014`` wheel), so all of them are listed: ``manylinux_2_N`` for
        N from the runtime's glibc down to 2.5, plus the legacy aliases (PEP 600).
        """
        major, minor = self.glibc
        tags = [f"manylinux_{major}_{n}_{self.arch}" for n in range(minor, 4, -1)]
        return tags + [f"manylinux2014_{self.arch}", f"manylinux2010_{self.arch}", f"manylinux1_{self.arch}"]


# Glue 5.0: Python 3.11 on Amazon Linux 2023 (glibc 2.34), x86_64.
GLUE_5_0 = GlueRuntime("5.0", (3, 11), (2, 34))
RUNTIMES = {"5.0": GLUE_5_0}


class GlueRuntimeError(RuntimeError):
    """The Terraform job definition or the pinned environment is not what this module expects."""


def _glue_job() -> dict:
    """The ``aws_glue_job`` resource of glue.tf, as python-hcl2 reads it (quotes removed)."""
    import hcl2

    with GLUE_TF.open() as fh:
        doc = hcl2.load(fh)
    for block in doc.get("resource", []):
        for rtype, named in block.items():
            if rtype.strip('"') == "aws_glue_job":
                return next(iter(named.values()))
    raise GlueRuntimeError(f"no aws_glue_job in {GLUE_TF}")


def _unquote(value: object) -> str:
    text = str(value)
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def job_runtime() -> GlueRuntime:
    """The runtime named by the job's ``glue_version`` in glue.tf."""
    version = _unquote(_glue_job()["glue_version"])
    if version not in RUNTIMES:
        raise GlueRuntimeError(f"glue.tf asks for Glue {version}; utils/etl/aws_runtime.py knows "
                            f"{', '.join(RUNTIMES)}: add its Python and glibc there first")
    return RUNTIMES[version]


def job_pins() -> list[str]:
    """``--additional-python-modules`` of the job in glue.tf, e.g. ``["duckdb==2.0.1", ...]``."""
    args = {_unquote(k): _unquote(v) for k, v in _glue_job()["default_arguments"].items()}
    modules = args.get("--additional-python-modules", "")
    pins = [m.strip() for m in modules.split(",") if m.strip()]
    loose = [p for p in pins if "==" not in p]
    if loose:
        raise GlueRuntimeError(f"every --additional-python-modules entry in glue.tf must be pinned "
                            f"(name==version); not pinned: {', '.join(loose)}")
    return pins


def pin_versions(pins: list[str]) -> dict[str, str]:
    """``["duckdb==2.0.1"]`` -> ``{"duckdb": "2.0.1"}`` (names normalised as pip does)."""
    return {_normalise(p.split("==")[0]): p.split("==")[1] for p in pins}


def _normalise(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")


def locked_versions(lock: Path = PROJECT_ROOT / "requirements.lock") -> dict[str, str]:
    """Versions pinned in requirements.lock (the local environment), by normalised name."""
    out = {}
    for line in lock.read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, _, version = line.partition("==")
            out[_normalise(name)] = version.strip()
    return out


# ------------------------------------------------------------------ the pinned environment

PINNED_VENV_DIR = STATE_DIR / "glue-venv"


def pinned_requirements(pins: list[str] | None = None) -> list[str]:
    """What the pinned environment installs: the job's pins, plus boto3 at the lock's version."""
    pins = list(job_pins() if pins is None else pins)
    locked = locked_versions()
    return pins + [f"{name}=={locked[name]}" for name in PREINSTALLED_ON_GLUE
                   if name not in pin_versions(pins)]


def _uv() -> str | None:
    """The ``uv`` installer of this environment (a dev dependency), if present."""
    beside = Path(sys.executable).parent / "uv"
    return str(beside) if beside.exists() else shutil.which("uv")


def ensure_venv(root: Path, requirements: list[str], no_deps: bool = False, timeout: float = 900) -> Path:
    """A virtual environment at ``root`` with exactly ``requirements``; returns its ``python``.

    Binary wheels only. Reused while ``requirements`` (and this interpreter) are unchanged,
    rebuilt otherwise: a stamp file records what it was built from. ``no_deps`` installs the
    list as given (a frozen list), without asking the resolver. Raises
    :class:`GlueRuntimeError` with pip's last lines when the index cannot provide them.
    """
    key = hashlib.sha256(json.dumps([requirements, no_deps, sys.version]).encode()).hexdigest()[:16]
    stamp = root / ".delab-requirements.json"
    python = root / "bin" / "python"
    if python.exists() and stamp.exists() and json.loads(stamp.read_text()).get("key") == key:
        return python
    if root.exists():
        shutil.rmtree(root)
    uv = _uv()
    options = ["--only-binary", ":all:", *(["--no-deps"] if no_deps else []), *requirements]
    if uv:  # ten times faster than pip at this (checkov's 100 wheels: ~4 s instead of ~60 s)
        venv.EnvBuilder(with_pip=False, clear=True).create(root)
        command = [uv, "pip", "install", "--quiet", "--python", str(python), *options]
    else:
        venv.EnvBuilder(with_pip=True, clear=True).create(root)
        command = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                   "--no-input", *options]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=timeout)
    if result.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        output = (result.stderr or result.stdout).strip().splitlines()
        lines = [ln for ln in output if not ln.startswith("WARNING")][-5:]
        raise GlueRuntimeError(f"could not build {root.name} from the package index:\n" + "\n".join(lines))
    stamp.write_text(json.dumps({"key": key, "requirements": requirements}, indent=1) + "\n")
    return python


def pinned_venv(pins: list[str] | None = None, root: Path = PINNED_VENV_DIR,
                runtime: GlueRuntime | None = None) -> Path:
    """A small virtual environment with exactly the Glue job's pins; returns its ``python``.

    Built once under ``.delab/glue-venv/`` from the package index (binary wheels only,
    as Glue cannot compile) and reused while the pins are unchanged; a change of the pins
    (or of this interpreter) builds it again.
    """
    runtime = runtime or job_runtime()
    if sys.version_info[:2] != runtime.python:
        raise GlueRuntimeError(f"the Glue {runtime.glue_version} job runs Python {runtime.python_version}; "
                               f"this is Python {sys.version_info[0]}.{sys.version_info[1]}, so it cannot "
                               "stand in for it")
    return ensure_venv(root, pinned_requirements(pins))


def installed_versions(python: Path, names: list[str]) -> dict[str, str]:
    """Versions of ``names`` as installed in the environment of ``python``."""
    code = ("import json, sys\nfrom importlib import metadata\n"
            "print(json.dumps({n: metadata.version(n) for n in sys.argv[1:]}))")
    out = subprocess.run([str(python), "-c", code, *names], capture_output=True, text=True,
                         check=True, timeout=60)
    return {_normalise(k): v for k, v in json.loads(out.stdout).items()}
