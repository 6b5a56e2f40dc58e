"""Processes known by identity: records, /proc checks, port holders, remembered ports.

Unrelated processes are real (``sleep`` started here) and must survive every check; the
MariaDB tests use a private server (tests/foundation/private_mariadb.py), never the
checkout's own.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.foundation.private_mariadb import PrivateServer, private_mariadb, server_port
from utils import config
from utils.services import mariadb, ports, processes


@pytest.fixture()
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """An unrelated live process (``sleep``) that nothing may signal; ended by this fixture."""
    proc = subprocess.Popen(["sleep", "300"])  # noqa: S607 - coreutils sleep, on PATH everywhere
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture()
def run_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Records go to a private directory, never the checkout's ``.delab/run``."""
    monkeypatch.setattr(processes, "RUN_DIR", tmp_path / "run")
    return tmp_path / "run"


def _record_of(proc: subprocess.Popen[bytes], service: str = "cloud") -> processes.ProcessRecord:
    return processes.ProcessRecord.of(service, proc.pid, port=1, data_dir="/nowhere", tag="t",
                                      expected_cwd=os.getcwd())


# ------------------------------------------------------------------ records and checks

def test_a_record_round_trips_atomically_and_ignores_unknown_fields(run_dir: Path, sleeper) -> None:
    record = _record_of(sleeper)
    path = processes.save_record(record)
    assert path == run_dir / "cloud.json"
    assert [p.name for p in run_dir.iterdir()] == ["cloud.json"]  # no temporary file left
    data = json.loads(path.read_text())
    assert data["pid"] == sleeper.pid and data["cmdline"] == ["sleep", "300"]
    assert data["start_ticks"] == int(Path(f"/proc/{sleeper.pid}/stat").read_text()
                                      .rsplit(")", 1)[1].split()[19])
    data["written_by_a_newer_version"] = True
    path.write_text(json.dumps(data))
    assert processes.load_record("cloud") == record
    path.write_text('{"pid": 12')  # torn by hand: unreadable means no record, not a crash
    assert processes.load_record("cloud") is None


def test_check_accepts_only_the_very_process_it_recorded(sleeper, tmp_path: Path) -> None:
    record = _record_of(sleeper)
    assert processes.check(record, expected_cwd=os.getcwd()).ours

    reused = dataclasses.replace(record, start_ticks=record.start_ticks - 1)
    verdict = processes.check(reused, expected_cwd=os.getcwd())
    assert not verdict.ours and verdict.alive
    assert f"pid {sleeper.pid} was reused by another program" in verdict.problem

    other_command = dataclasses.replace(record, cmdline=["python", "-m", "utils.cloud", "serve"])
    assert "runs another command" in processes.check(other_command).problem

    rebooted = dataclasses.replace(record, boot_id="00000000-0000-0000-0000-000000000000")
    assert "before the machine restarted" in processes.check(rebooted).problem

    foreign = dataclasses.replace(record, project_root="/some/other/checkout")
    assert "written by another checkout (/some/other/checkout)" in processes.check(foreign).problem

    elsewhere = processes.check(record, expected_cwd=tmp_path)
    assert not elsewhere.ours and "not ours" in elsewhere.problem

    sleeper.kill()
    sleeper.wait()
    gone = processes.check(record)
    assert not gone.ours and not gone.alive and "no longer running" in gone.problem


def test_terminate_never_signals_a_pid_whose_start_time_changed(sleeper) -> None:
    wrong = (processes.start_ticks(sleeper.pid) or 0) + 1
    assert processes.terminate([sleeper.pid], {sleeper.pid: wrong}, timeout=0.5) == []
    assert sleeper.poll() is None
    right = processes.start_ticks(sleeper.pid)
    assert processes.terminate([sleeper.pid], {sleeper.pid: right}, timeout=5) == [sleeper.pid]
    assert sleeper.wait(5) is not None


def test_descendants_and_tagged_processes_are_found(tmp_path: Path) -> None:
    tag = "test-" + os.urandom(4).hex()
    parent = subprocess.Popen(
        [sys.executable, "-c", "import subprocess, sys; subprocess.Popen(['sleep', '300']).wait()"],
        env={**os.environ, processes.TAG_VARIABLE: tag})
    try:
        for _ in range(50):
            children = processes.descendants(parent.pid)
            if children:
                break
            time.sleep(0.1)
        assert len(children) == 1 and processes.cmdline(children[0]) == ["sleep", "300"]
        record = processes.ProcessRecord.of("cloud", parent.pid, port=1, data_dir="", tag=tag,
                                            expected_cwd=os.getcwd())
        assert processes.tagged_processes(record) == children  # the parent itself is excluded
        assert processes.tagged_processes(dataclasses.replace(record, tag="another")) == []
    finally:
        for pid in processes.descendants(parent.pid):
            os.kill(pid, 9)
        parent.kill()
        parent.wait()


# ------------------------------------------------------------------ ports

def test_the_holder_of_a_port_is_named() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert not ports.port_is_free(port)
        assert ports.holders(port) == [os.getpid()]
        assert ports.describe_holder(port).startswith(f"pid {os.getpid()} (")
    assert ports.port_is_free(port)


def test_a_port_left_in_time_wait_by_a_stopped_server_is_free() -> None:
    # `make down && make up`: the old server's closed connections linger in TIME_WAIT; the
    # port must not look taken (it did with a plain bind, and ours moved to another port).
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = server.accept()
        accepted.close()  # the server closes first: its side goes to TIME_WAIT
        client.close()
    assert ports.port_is_free(port)


def test_a_taken_port_moves_ours_and_is_remembered_unless_set_in_the_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env_file = tmp_path / ".env"
    monkeypatch.setattr(config, "ENV_FILE", env_file)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        env_file.write_text(f"# mine\nDELAB_CLOUD_PORT={port}\nDELAB_DB_ADMIN_PASSWORD=x\n")
        monkeypatch.delenv("DELAB_CLOUD_PORT", raising=False)
        moved = ports.move_or_refuse("DELAB_CLOUD_PORT", port, "a test socket", "local cloud")
        assert moved > port and ports.port_is_free(moved)
        assert env_file.read_text() == f"# mine\nDELAB_CLOUD_PORT={moved}\nDELAB_DB_ADMIN_PASSWORD=x\n"
        said = capsys.readouterr().out.strip()
        assert said.startswith(f"Port {port} is held by a test socket: not ours, left alone.")
        assert "\n" not in said and f"DELAB_CLOUD_PORT={moved}" in said

        monkeypatch.setenv("DELAB_CLOUD_PORT", str(port))
        with pytest.raises(ports.PortTaken) as err:
            ports.move_or_refuse("DELAB_CLOUD_PORT", port, "a test socket", "local cloud")
        assert f"DELAB_CLOUD_PORT={port} is set in this shell: set it to a free port" in str(err.value)
        assert f"DELAB_CLOUD_PORT={moved}" in env_file.read_text()  # unchanged


def test_ports_given_in_the_environment_are_remembered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DELAB_DB_ADMIN_PASSWORD=secret\nDELAB_DB_PORT=3307\n")
    monkeypatch.setattr(config, "ENV_FILE", env_file)
    monkeypatch.setenv("DELAB_DB_PORT", "3399")
    monkeypatch.setenv("DELAB_CLOUD_PORT", "4566")  # the default, not in .env: nothing to remember
    monkeypatch.setenv("DELAB_LAB_PORT", "8899")
    assert config.setting_source("DELAB_DB_PORT") == "environment"
    assert config.remember_environment_ports() == {"DELAB_DB_PORT": "3399", "DELAB_LAB_PORT": "8899"}
    assert env_file.read_text() == "DELAB_DB_ADMIN_PASSWORD=secret\nDELAB_DB_PORT=3399\nDELAB_LAB_PORT=8899\n"
    assert env_file.stat().st_mode & 0o077 == 0
    monkeypatch.delenv("DELAB_DB_PORT")
    assert config.setting_source("DELAB_DB_PORT") == ".env"
    assert config.get_settings().db_port == 3399


# ------------------------------------------------------------------ our MariaDB (private server)

@pytest.fixture(scope="module")
def private_server() -> Iterator[PrivateServer]:
    """One private MariaDB for this module (about 2 s to create and start)."""
    with private_mariadb(provision=False) as server:
        yield server


def test_our_server_is_recorded_and_verified(private_server: PrivateServer) -> None:
    record = processes.load_record("mariadb")
    assert record is not None and record.pid == private_server.pid
    assert record.port == private_server.settings.db_port
    assert record.data_dir == str(private_server.root / "data") == record.cwd
    assert f"--datadir={private_server.root / 'data'}" in record.cmdline
    assert record.start_ticks == processes.start_ticks(private_server.pid)
    assert processes.cwd(private_server.pid) == record.cwd  # mariadbd works in its data dir
    assert mariadb.state().ours and mariadb.our_pid() == private_server.pid


def test_changing_the_port_while_ours_runs_says_so_at_once(
    private_server: PrivateServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = server_port()
    monkeypatch.setenv("DELAB_DB_PORT", str(other))
    with pytest.raises(mariadb.MariaDBError) as err:
        mariadb.ensure_mariadb()
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"Our MariaDB runs on port {private_server.settings.db_port} "
                              f"(pid {private_server.pid}, data dir {private_server.root / 'data'}) "
                              f"but DELAB_DB_PORT is now {other}. Run `make down` first")
    assert ports.port_is_free(other)  # nothing was started on the new port


def test_a_stale_mariadb_record_pointing_at_a_stranger_is_left_alone(
    private_server: PrivateServer, sleeper, capsys: pytest.CaptureFixture[str]
) -> None:
    real = processes.load_record("mariadb")
    assert real is not None
    planted = dataclasses.replace(real, pid=sleeper.pid)  # start time and command: the server's
    processes.save_record(planted)
    verdict = mariadb.state()
    assert not verdict.ours and verdict.check is not None and verdict.check.alive
    # `up` forgets the stale record, finds our server on our data dir and reuses it.
    settings = mariadb.ensure_mariadb()
    assert settings.db_port == private_server.settings.db_port
    said = capsys.readouterr().out
    assert f"MariaDB: mariadb record (pid {sleeper.pid}) is stale: pid {sleeper.pid} was reused" in said
    assert "left alone, record removed." in said and f"ours, pid {private_server.pid}" in said
    assert sleeper.poll() is None
    assert mariadb.our_pid() == private_server.pid  # re-recorded from the live server


def test_another_mariadbd_on_our_data_dir_ends_in_one_line(
    private_server: PrivateServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # This checkout "forgot" its server: no record, and a socket it would not recognise.
    monkeypatch.setattr(processes, "RUN_DIR", tmp_path / "run")
    monkeypatch.setattr(mariadb, "socket_path", lambda: tmp_path / "other.sock")
    with pytest.raises(mariadb.MariaDBError) as err:
        mariadb.ensure_mariadb()
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"MariaDB cannot start: another mariadbd (pid {private_server.pid} ")
    assert f"already uses the data dir {private_server.root / 'data'} (InnoDB lock)" in message

    # Started anyway (the check above skipped): mariadbd's own lock error, read from its log at
    # once instead of after its 30 s of retries.
    second = server_port()
    monkeypatch.setenv("DELAB_DB_PORT", str(second))
    with pytest.raises(mariadb.MariaDBError) as err:
        mariadb.start_server(config.get_settings(), mariadb.ensure_installed())
    message = str(err.value)
    assert "\n" not in message and "(InnoDB lock)" in message
    assert f"another mariadbd (pid {private_server.pid} " in message
    assert processes.pid_alive(private_server.pid) and mariadb.datadir_users() == [private_server.pid]
    assert processes.load_record("mariadb") is None  # the failed start left no record


def test_start_failures_are_one_line() -> None:
    lock_log = ("2026-12-02 14:26:00 0 [ERROR] mariadbd: Can't lock aria control file "
                "'/x/data/aria_log_control' for exclusive use, error: 11. Will retry for 30 seconds\n")
    assert mariadb._fatal_start_error(lock_log)
    innodb_log = ("[ERROR] InnoDB: Unable to lock ./ibdata1 error: 11\n[Note] InnoDB: Check that you "
                  "do not already have another mariadbd process using the same InnoDB data or log files.\n")
    assert mariadb._fatal_start_error(innodb_log)
    other = "2026-12-02 0 [ERROR] mariadbd: unknown variable 'foo=1'\n2026-12-02 0 [ERROR] Aborting\n"
    assert not mariadb._fatal_start_error(other)
    assert mariadb._start_failure(other, 3306).startswith(
        "MariaDB exited during start-up: mariadbd: unknown variable 'foo=1' (log: ")


def test_down_stops_our_server_after_verifying_it(private_server: PrivateServer, sleeper) -> None:
    # Last test of the module: it stops the private server (the fixture copes).
    assert mariadb.stop_server() is True
    assert not processes.pid_alive(private_server.pid)
    assert processes.load_record("mariadb") is None
    assert mariadb.stop_server() is False  # nothing of ours left; nothing else touched
    assert sleeper.poll() is None


def test_a_record_waits_for_the_command_line_a_fresh_exec_shows_late(
    sleeper, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Popen returns before the kernel lays out the new program's arguments: an empty
    /proc/<pid>/cmdline read then must not become the record (it would later look stale)."""
    real = processes.cmdline
    reads = iter([None, None])
    monkeypatch.setattr(processes, "cmdline", lambda pid: next(reads, None) or real(pid))
    record = _record_of(sleeper)
    assert record.cmdline == ["sleep", "300"]
    assert processes.check(record, expected_cwd=os.getcwd()).ours
