"""``delab`` / ``python -m utils.cli``: the commands behind the Makefile.

    up       MariaDB + local cloud + seed + lab resources (idempotent)
    down     stop what ``up`` started (pid and identity verified), nothing else
    status   what runs where: port, pid, start time, ours or not, data dir
    env      ``export ...`` lines pointing a shell at the target
    lab      ``up``, then JupyterLab on 127.0.0.1 (kernels/terminals see the cloud)
    seed     (re)load classicmodels: ``--sf N`` generated, or ``--dump file.sql [--force]``;
             ``--rollback`` puts back the data the last load replaced
    progress the learner's exercises passed and quiz scores per lesson, and what to do next
"""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from utils.config import PROJECT_ROOT, Settings, ensure_env_file, get_settings, remember_environment_ports


def _step(message: str) -> None:
    print(f"==> {message}", flush=True)


def _export_environment(settings: Settings) -> None:
    """Put the target's AWS variables into this process (children inherit them)."""
    os.environ.update(settings.aws_environment())
    if settings.is_local:
        os.environ.pop("AWS_PROFILE", None)


def _source_is_seeded(settings: Settings) -> bool:
    from utils.services.mariadb import connect

    conn = connect("admin")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM information_schema.tables "
                        "WHERE table_schema = %s AND table_name = 'orderdetails'", (settings.db_name,))
            if cur.fetchone()[0] == 0:
                return False
            cur.execute("SELECT COUNT(*) FROM orderdetails")
            return cur.fetchone()[0] > 0
    finally:
        conn.close()


def up(seed: bool = True, cloud_only: bool = False) -> Settings:
    """Bring everything up; safe to run again (reuses what runs and is verified ours).

    Ports given in the environment are remembered in ``.env``; a port held by another
    program moves ours to the next free one (also remembered), so every later shell and
    ``make`` command of this checkout agrees.
    """
    from utils.cloud import daemon, provision
    from utils.services.mariadb import ensure_mariadb

    ensure_env_file()
    settings = get_settings()
    if not settings.is_local:
        _step("Target is real AWS (DELAB_TARGET=aws): nothing local to start.")
        return settings
    if not cloud_only:
        _step("MariaDB")
        ensure_mariadb()
    _step("Local cloud")
    pid = daemon.start()
    remember_environment_ports()
    settings = get_settings()  # a port may have moved to a free one (.env says which)
    print(f"local cloud answers on {settings.endpoint_url} (ours, pid {pid}).", flush=True)
    _export_environment(settings)
    if cloud_only:
        return settings
    if seed and not _source_is_seeded(settings):
        _step(f"Seeding classicmodels (scale factor {settings.scale_factor:g})")
        from utils.classicmodels.__main__ import main as seed_main

        if seed_main(["seed", "--sf", f"{settings.scale_factor:g}"]):
            raise SystemExit("error: seeding classicmodels failed (see above); nothing was replaced.")
    _step("Lab resources")
    created = provision.apply(settings)
    print(f"{len(created)} created, the rest already there.", flush=True)
    return settings


def down() -> None:
    """Stop the local cloud and the MariaDB server that we started (identity verified first)."""
    from utils.cloud import daemon
    from utils.services import mariadb

    print("local cloud:", "stopped" if daemon.stop() else "no cloud of ours was running")
    stopped = mariadb.stop_server()
    if stopped:
        print("MariaDB:     stopped")
    else:
        print("MariaDB:     no server of ours was running; nothing else was touched")


def _relative(path: str | Path) -> str:
    try:
        return str(Path(path).relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def _process_line(record: Any, ours: bool, problem: str) -> str:
    """pid, start time, ours or not: the part of a status line about the recorded process."""
    if record is None:
        return "no process recorded"
    if ours:
        return f"pid {record.pid}, started {record.started_at}, ours (identity verified)"
    return f"not ours: {problem}"


def status() -> int:
    """For each service: port, pid, start time, whether it is ours, data dir. Signals nothing.

    Exit code 0 when every service answers and is ours (or is the existing server the
    settings ask for).
    """
    from utils.cloud import daemon
    from utils.services import mariadb, ports

    s = get_settings()
    print(f"target       {s.target}")
    if not s.is_local:
        return 0
    healthy = True

    db = mariadb.state()
    db_ours = db.ours
    db_up = mariadb.server_is_up(s)
    if mariadb.external_server_requested(s):
        line = "existing server, as the settings ask (not ours to start or stop)"
    elif db.record is None and not db_up:
        line = "no process recorded"
    elif db_ours and db.record is not None and db.record.port != s.db_port:
        line = (f"ours runs on port {db.record.port} (pid {db.record.pid}), not on DELAB_DB_PORT="
                f"{s.db_port}: `make down`, then `make up`")
        db_up = False
    elif not db_ours and db_up:
        line = f"held by {ports.describe_holder(s.db_port)}: not ours, left alone"
        if db.record is not None:
            line += f"; {db.check.problem if db.check else 'stale record'}"
        db_up = False
    else:
        line = _process_line(db.record, db_ours, db.check.problem if db.check else "")
    healthy &= db_up
    print(f"MariaDB      {s.db_host}:{s.db_port}  {'up' if db_up else 'DOWN'}  {line}")
    if not mariadb.external_server_requested(s):
        print(f"             data dir {_relative(mariadb.datadir())}, log {_relative(mariadb.log_path())}")

    cloud = daemon.state()
    answer = daemon.identity_of(s.cloud_port)
    cloud_up = bool(cloud.ours and cloud.record is not None and cloud.record.port == s.cloud_port)
    if cloud.ours and cloud.record is not None and cloud.record.port != s.cloud_port:
        line = (f"ours runs on port {cloud.record.port} (pid {cloud.record.pid}), not on "
                f"DELAB_CLOUD_PORT={s.cloud_port}: `make down`, then `make up`")
    elif not cloud_up and not ports.port_is_free(s.cloud_port):
        holder = (f"the local cloud of checkout {answer['project_root']} (pid {answer['pid']})"
                  if answer and answer.get("project_root") != str(PROJECT_ROOT)
                  else ports.describe_holder(s.cloud_port))
        line = f"held by {holder}: not ours, left alone"
        if cloud.record is not None and cloud.check is not None and cloud.check.problem:
            line += f"; {cloud.check.problem}"
    elif cloud.record is not None and cloud.check is not None and cloud.check.ours and not cloud.ours:
        line = f"pid {cloud.record.pid} is ours but does not answer on port {cloud.record.port}"
    else:
        line = _process_line(cloud.record, cloud.ours, cloud.check.problem if cloud.check else "")
    healthy &= cloud_up
    print(f"local cloud  {s.endpoint_url}  {'up' if cloud_up else 'DOWN'}  {line}")
    print(f"             state dir {_relative(daemon.CLOUD_DIR)}, log {_relative(daemon.log_path())}")
    _stored_state()
    return 0 if healthy else 1


def _stored_state() -> None:
    """What the local cloud keeps on disk (survives `make down`, crashes, restarts)."""
    from utils.cloud.__main__ import default_state_dir, status_command

    state = default_state_dir()
    if not state.exists():
        print("stored       nothing yet (the local cloud keeps its state once it has started)")
        return
    try:
        status_command(state.resolve())
    except Exception as exc:  # a damaged store must not hide the services' status
        print(f"stored       cannot read {_relative(state)}: {exc}")


def env_lines() -> list[str]:
    """``export`` lines for ``eval "$(make -s env)"``.

    The venv's bin goes first on PATH: its ``aws`` is the one that loads our CLI plugin
    (another ``aws`` on the machine could not import it).
    """
    lines = [f"export {k}={shlex.quote(v)}" for k, v in sorted(get_settings().aws_environment().items())]
    lines.append(f'export PATH={shlex.quote(os.path.dirname(sys.executable))}:"$PATH"')
    return lines


def _free_port(preferred: int, attempts: int = 50) -> int:
    from utils.services.ports import next_free_port

    port = next_free_port(preferred, attempts)
    if port is None:
        raise SystemExit(f"No free port in {preferred}-{preferred + attempts - 1}: set DELAB_LAB_PORT.")
    return port


def _terminal_rcfile(settings: Settings) -> str:
    """A bash rcfile for JupyterLab terminals: the user's ~/.bashrc, then our venv and target.

    Terminals start a shell that re-reads profile files, which can put another Python (and
    another ``aws``) first on PATH; this puts the lab's back on top.
    """
    import json

    rc = PROJECT_ROOT / ".delab" / "jupyter" / "bashrc"
    rc.parent.mkdir(parents=True, exist_ok=True)
    lines = ['[ -f ~/.bashrc ] && . ~/.bashrc', *env_lines(), f"cd {shlex.quote(str(PROJECT_ROOT))}"]
    if settings.is_local:
        lines.append("echo 'This terminal talks to the local cloud. Try: "
                     "aws glue get-job --job-name de-c1w2-etl-job --query Job.Name'")
    rc.write_text("\n".join(lines) + "\n")
    # No "news" pop-up (it would try the internet): JupyterLab settings overrides.
    overrides = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    overrides.parent.mkdir(parents=True, exist_ok=True)
    overrides.write_text(json.dumps({"@jupyterlab/apputils-extension:notification": {
        "fetchNews": "false", "checkForUpdates": False}}, indent=2))
    return str(rc)


def lab() -> int:
    """Bring everything up, then serve JupyterLab on 127.0.0.1 (blocks)."""
    settings = up()
    rcfile = _terminal_rcfile(settings)
    port = _free_port(settings.lab_port)
    if port != settings.lab_port:
        print(f"Port {settings.lab_port} is taken; using {port} instead "
              "(set DELAB_LAB_PORT to choose).", flush=True)
    token = secrets.token_hex(16)
    url = f"http://127.0.0.1:{port}/lab?token={token}"
    _step(f"JupyterLab: open {url}")
    os.environ["JUPYTER_TOKEN"] = token
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
           f"--port={port}", "--ServerApp.port_retries=0", f"--ServerApp.root_dir={PROJECT_ROOT}",
           f"--IdentityProvider.token={token}",
           "--ServerApp.terminado_settings="
           + repr({"shell_command": ["/bin/bash", "--rcfile", rcfile, "-i"]})]
    if os.geteuid() == 0:  # JupyterLab refuses root unless told; containers and CI run as root
        cmd.append("--allow-root")
    os.environ["PATH"] = f"{os.path.dirname(sys.executable)}:{os.environ.get('PATH', '')}"
    os.execv(sys.executable, cmd)  # noqa: S606 - replaces this process with JupyterLab
    return 0  # not reached


CHROMIUM = "/usr/bin/chromium"


def ensure_chromium() -> None:
    """Debian's Chromium for the browser test (never a browser download of a test tool)."""
    import shutil
    import subprocess

    if os.path.exists(CHROMIUM):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        print("note: /usr/bin/chromium is missing and I cannot install it; the browser test "
              "will fail. Install it with: sudo apt-get install -y chromium", flush=True)
        return
    _step("Installing Debian's chromium for the browser test (one time)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium", "fonts-dejavu-core"]
    if subprocess.run(cmd, env=env, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=False)
        subprocess.run(cmd, env=env, check=False)


def run_tests(extra: list[str]) -> int:
    """The whole suite: unit, integration, notebooks (papermill) and nbval; on two shards
    (this checkout and a second one, :mod:`utils.testrun`) when the machine has the cores."""
    import subprocess

    ensure_chromium()
    settings = get_settings()
    _export_environment(settings)
    os.environ["PATH"] = f"{os.path.dirname(sys.executable)}:{os.environ.get('PATH', '')}"
    from utils.testrun import names_paths, run_sharded, shard_count

    base = [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env",
            "--nbval-sanitize-with", "tests/nbval_sanitize.cfg"]
    shards = shard_count(extra)
    if shards > 1:
        return run_sharded(base, extra, shards)
    cmd = [*base, *([] if names_paths(extra) else ["tests", "notebooks"]), *extra]
    _step(" ".join(cmd[2:]))
    return subprocess.call(cmd, cwd=PROJECT_ROOT)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="delab", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    up_p = sub.add_parser("up", help="start MariaDB and the local cloud, seed, provision")
    up_p.add_argument("--no-seed", action="store_true")
    up_p.add_argument("--cloud-only", action="store_true",
                      help="start only the local cloud (no MariaDB, seeding or provisioning)")
    sub.add_parser("down", help="stop what up started")
    sub.add_parser("status", help="what runs where")
    sub.add_parser("env", help="export lines for the AWS target")
    sub.add_parser("lab", help="up, then serve JupyterLab")
    seed_p = sub.add_parser("seed", help="(re)load classicmodels")
    seed_p.add_argument("--sf", default=None)
    seed_p.add_argument("--dump", default=None)
    seed_p.add_argument("--force", action="store_true",
                        help="load a dump even when it breaks integrity (order lines without a product...)")
    seed_p.add_argument("--rollback", action="store_true",
                        help="put back the classicmodels data the last load replaced")
    sub.add_parser("labs", help="regenerate labs/ and notebooks/ from solutions/")
    sub.add_parser("demo", help="run the lab pipeline headless; write figures and a summary")
    sub.add_parser("progress", help="your exercises passed and quiz scores per lesson")
    grade_p = sub.add_parser("grade", help="grade a folder of learner notebooks")
    grade_p.add_argument("grade_args", nargs=argparse.REMAINDER)
    test_p = sub.add_parser("test", help="run the whole test suite (after up)")
    test_p.add_argument("pytest_args", nargs=argparse.REMAINDER)
    # `test` and `grade` pass their options on (pytest's --durations=..., the gradebook's
    # flags): argparse's REMAINDER refuses options that start with "-" after a subcommand.
    args, passed_on = parser.parse_known_args(argv)
    if passed_on and args.command not in ("test", "grade"):
        parser.error(f"unrecognized arguments: {' '.join(passed_on)}")
    if args.command == "test":
        args.pytest_args = [*args.pytest_args, *passed_on]
    elif args.command == "grade":
        args.grade_args = [*args.grade_args, *passed_on]
    from utils.cloud.daemon import CloudError
    from utils.services.mariadb import MariaDBError

    started = time.monotonic()
    try:
        if args.command == "up":
            up(seed=not args.no_seed, cloud_only=args.cloud_only)
            print(f"Ready in {time.monotonic() - started:.1f}s. `make status` shows what runs; "
                  "`eval \"$(make -s env)\"` points a shell at the local cloud.")
        elif args.command == "down":
            down()
        elif args.command == "status":
            return status()
        elif args.command == "env":
            print("\n".join(env_lines()))
        elif args.command == "lab":
            return lab()
        elif args.command == "test":
            return run_tests(args.pytest_args)
        elif args.command == "labs":
            from utils.teaching.labgen import main as labgen_main

            _export_environment(get_settings())  # the lessons' learner copies are executed
            return labgen_main([]) or 0
        elif args.command == "demo":
            from utils.demo import main as demo_main

            _export_environment(get_settings())
            return demo_main([]) or 0
        elif args.command == "grade":
            from utils.teaching.gradebook import main as grade_main

            if not args.grade_args:
                print("usage: make grade SUBMISSIONS=path/to/folder", file=sys.stderr)
                return 2
            _export_environment(get_settings())
            return grade_main(args.grade_args) or 0
        elif args.command == "progress":
            from utils.teaching.progress import main as progress_main

            return progress_main([])
        elif args.command == "seed":
            from utils.classicmodels.__main__ import main as seed_main
            from utils.services.mariadb import ensure_mariadb

            ensure_mariadb()
            if args.rollback:
                return seed_main(["rollback"]) or 0
            seed_args = ["seed", *(["--force"] if args.force else [])]
            if args.dump:
                seed_args += ["--dump", args.dump]
            else:
                seed_args += ["--sf", str(args.sf or get_settings().scale_factor)]
            return seed_main(seed_args) or 0
    except (MariaDBError, CloudError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: what was running is left as it was; `make status` shows it.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
