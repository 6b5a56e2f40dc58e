"""Does every ``--additional-python-modules`` pin of the Glue job exist as a binary wheel for AWS?

AWS Glue installs the job's modules with pip when a run starts and cannot compile native
code, so a pin without a wheel for the runtime's Python and platform fails the run before
a line of the job executes. This asks the package index exactly that for every pin:

    pip download --only-binary :all: --python-version 3.11 --implementation cp \\
        --platform manylinux_2_34_x86_64 ... --platform manylinux1_x86_64 --no-deps <pin>

and then once more for all pins together *with* their dependencies (Glue's pip installs
those too). Wheels land in ``.delab/aws-wheels/glue-<version>/``; pip does not download a
file that is already there, so a second run only asks the index.

    python -m utils.etl.aws_wheels        # or: make check-wheels

Exit status: 0 every pin resolves, 1 some pin does not, 2 the index cannot be reached.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from utils.config import STATE_DIR
from utils.etl.aws_runtime import GlueRuntime, GlueRuntimeError, job_pins, job_runtime, pin_versions

DEFAULT_INDEX = "https://pypi.org/simple"
WHEELS_DIR = STATE_DIR / "aws-wheels"


@dataclass(frozen=True)
class PinResult:
    """The index's answer for one pin."""

    pin: str
    ok: bool
    detail: str  # the wheel's file name, or pip's reason

    def line(self) -> str:
        """``  ok    duckdb==2.0.1  duckdb-2.0.1-cp311-...whl``."""
        return f"  {'ok' if self.ok else 'FAIL':<5} {self.pin:<22} {self.detail}"


class IndexUnreachable(RuntimeError):
    """The package index did not answer (no network, or a proxy in the way)."""


def index_url() -> str:
    """The index pip would ask (``PIP_INDEX_URL`` / pip config), PyPI by default."""
    out = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True,
                         text=True, check=False, timeout=60).stdout
    for line in out.splitlines():
        key, _, value = line.partition("=")
        if key.endswith(".index-url"):
            return value.strip().strip("'\"").rstrip("/")
    return DEFAULT_INDEX


def check_index(url: str | None = None, timeout: float = 10.0) -> str:
    """Return the index URL when it answers; raise :class:`IndexUnreachable` otherwise."""
    url = url or index_url()
    probe = f"{url}/pip/"
    if not probe.startswith(("https://", "http://")):
        raise IndexUnreachable(f"the package index {url} is not an http(s) URL")
    try:
        with urllib.request.urlopen(probe, timeout=timeout):  # noqa: S310 - scheme checked above
            pass
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise IndexUnreachable(f"the package index {url} cannot be reached ({reason})") from None
    return url


def _pip_download(runtime: GlueRuntime, specs: list[str], dest: Path,
                  deps: bool) -> subprocess.CompletedProcess:
    platforms = [arg for tag in runtime.platform_tags() for arg in ("--platform", tag)]
    cmd = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--no-input",
           "--only-binary", ":all:", "--python-version", runtime.python_version,
           "--implementation", "cp", *platforms, "-d", str(dest)]
    if not deps:
        cmd.append("--no-deps")
    return subprocess.run(cmd + specs, capture_output=True, text=True, check=False, timeout=900)


def _wheel_of(pin: str, dest: Path) -> str | None:
    name, version = next(iter(pin_versions([pin]).items()))
    stem = re.sub(r"[-_.]+", "_", name)
    for path in sorted(dest.glob("*.whl")):
        wheel_name, wheel_version = path.name.split("-")[:2]
        if re.sub(r"[-_.]+", "_", wheel_name).lower() == stem and wheel_version == version:
            return path.name
    return None


def _reason(output: str) -> str:
    for line in output.splitlines():
        if line.startswith("ERROR:"):
            return line.removeprefix("ERROR:").strip()
    return output.strip().splitlines()[-1] if output.strip() else "pip failed"


def check_pins(pins: list[str], runtime: GlueRuntime, dest: Path) -> list[PinResult]:
    """Ask for every pin as a wheel (``--no-deps``); each result names its wheel or pip's reason.

    One pip call asks for all pins at once; only when it fails is each pin asked on its
    own, so that every failing pin is named (pip stops at the first).
    """
    dest.mkdir(parents=True, exist_ok=True)
    together = _pip_download(runtime, pins, dest, deps=False)
    if together.returncode == 0 and all(_wheel_of(pin, dest) for pin in pins):
        return [PinResult(pin, True, str(_wheel_of(pin, dest))) for pin in pins]
    results = []
    for pin in pins:
        done = _pip_download(runtime, [pin], dest, deps=False)
        wheel = _wheel_of(pin, dest) if done.returncode == 0 else None
        if wheel:
            results.append(PinResult(pin, True, wheel))
        else:
            results.append(PinResult(pin, False, "no binary wheel for this runtime: "
                                     + _reason(done.stderr or done.stdout)))
    return results


def check_dependencies(pins: list[str], runtime: GlueRuntime, dest: Path) -> tuple[bool, list[str], str]:
    """All pins together, with dependencies: (ok, wheels beyond the pins, pip's reason if not ok)."""
    dest.mkdir(parents=True, exist_ok=True)
    done = _pip_download(runtime, pins, dest, deps=True)
    if done.returncode != 0:
        return False, [], _reason(done.stderr or done.stdout)
    names = re.findall(r"(?:Saved|File was already downloaded) (\S+\.whl)", done.stdout)
    wheels = sorted({Path(n).name for n in names})
    pinned = {w for w in (_wheel_of(p, dest) for p in pins) if w}
    return True, [w for w in wheels if w not in pinned], ""


def report(runtime: GlueRuntime, index: str, results: list[PinResult], deps_ok: bool,
           extra: list[str], deps_reason: str) -> str:
    """The text ``make check-wheels`` prints."""
    tags = runtime.platform_tags()
    lines = [f"AWS Glue {runtime.glue_version}: Python {runtime.python_version} ({runtime.abi}), "
             f"{runtime.arch}, glibc {runtime.glibc[0]}.{runtime.glibc[1]} "
             f"(wheel tags {tags[0]} ... {tags[-1]})",
             f"index: {index}",
             "--additional-python-modules (infra/terraform/glue.tf), each as a wheel (--no-deps):"]
    lines += [r.line() for r in results]
    if deps_ok:
        lines.append("all together with their dependencies, as Glue's pip installs them: ok, "
                     + (f"{len(extra)} more wheel(s): {', '.join(extra)}" if extra else "no further wheels"))
    else:
        lines.append(f"all together with their dependencies: FAIL: {deps_reason}")
    good = sum(r.ok for r in results)
    lines.append(f"{good} of {len(results)} pins resolve to binary wheels for AWS Glue {runtime.glue_version}"
                 + ("." if good == len(results) and deps_ok else "; the job would fail to start on AWS."))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: print the per-pin results; exit 0 (all ok), 1 (some fail), 2 (no index)."""
    parser = argparse.ArgumentParser(prog="python -m utils.etl.aws_wheels",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--dest", type=Path, default=None, help="where to keep the wheels")
    args = parser.parse_args(argv)
    try:
        runtime, pins = job_runtime(), job_pins()
        index = check_index()
    except (GlueRuntimeError, IndexUnreachable) as exc:
        print(f"check-wheels: {exc}", file=sys.stderr)
        return 2
    dest = args.dest or WHEELS_DIR / f"glue-{runtime.glue_version}"
    results = check_pins(pins, runtime, dest)
    deps_ok, extra, reason = check_dependencies(pins, runtime, dest)
    print(report(runtime, index, results, deps_ok, extra, reason))
    return 0 if all(r.ok for r in results) and deps_ok else 1


if __name__ == "__main__":
    sys.exit(main())
