"""The local MariaDB server: install, start, create the lab's database and users.

Policy (design.md section 3, issue #12):

- We run our own server with its own data directory under ``.delab/`` (bound to
  127.0.0.1, run as the ``mysql`` user because mariadbd refuses root). It is recorded in
  ``.delab/run/mariadb.json`` (pid, kernel start time, command line, port, data dir: see
  :mod:`utils.services.processes`); ``make down`` stops it only after verifying all of
  these, and a record that does not match is reported and never signalled.
- A server of someone else (the system's MariaDB, another checkout's) holding our port is
  left alone: our server moves to the next free port, remembered in ``.env``, unless the
  port was set in the shell (then the message names the setting to change).
- An existing server is used only when asked for explicitly: ``DELAB_DB_HOST`` not on this
  machine, or ``DELAB_DB_SOCKET`` / ``DELAB_DB_SUPERPASSWORD`` set. We then touch nothing
  beyond creating our database and users.
- When no server binary exists and we are root on Debian/Ubuntu, we install
  ``mariadb-server`` with apt; otherwise we stop with a message saying what to install.
"""

from __future__ import annotations

import functools
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from hashlib import sha1
from pathlib import Path

import pymysql

from utils.config import PROJECT_ROOT, STATE_DIR, Settings, ensure_env_file, get_settings
from utils.services import ports, processes
from utils.services.processes import pid_alive

SERVICE = "mariadb"


class MariaDBError(RuntimeError):
    """A problem with the MariaDB server that the user can act on."""


SERVER_BINARIES = ("mariadbd", "mysqld")
CLIENT_BINARIES = ("mariadb", "mysql")
INSTALL_DB_BINARIES = ("mariadb-install-db", "mysql_install_db")
SBIN = ("/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin")


def _which(names: tuple[str, ...]) -> str | None:
    for name in names:
        found = shutil.which(name) or next(
            (f"{d}/{name}" for d in SBIN if os.access(f"{d}/{name}", os.X_OK)), None
        )
        if found:
            return found
    return None


def server_binary() -> str | None:
    """Path of the MariaDB/MySQL server binary, or None when none is installed."""
    return _which(SERVER_BINARIES)


def port_answers(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def server_is_up(settings: Settings | None = None) -> bool:
    """True when a MySQL-protocol server greets us on the configured host and port."""
    s = settings or get_settings()
    try:
        with socket.create_connection((s.db_host, s.db_port), timeout=1.0) as sock:
            sock.settimeout(2.0)
            greeting = sock.recv(128)
    except OSError:
        return False
    # MySQL handshake v10: 3-byte length, sequence 0, protocol byte 10 (0xff = error packet,
    # e.g. "too many connections", still a server).
    return len(greeting) > 4 and greeting[4] in (10, 0xFF)


@functools.lru_cache(maxsize=1)
def data_root() -> Path:
    """Directory holding our own server's data, socket, pid and log.

    Inside the project when the ``mysql`` user can reach it, otherwise under
    /var/lib (a project in a private home directory is not reachable by ``mysql``).
    """
    local = STATE_DIR / "mariadb"
    if os.geteuid() != 0 or _mysql_can_traverse(PROJECT_ROOT):
        return local
    digest = sha1(str(PROJECT_ROOT).encode(), usedforsecurity=False).hexdigest()[:10]
    return Path("/var/lib/delab") / f"mariadb-{digest}"


def _mysql_can_traverse(path: Path) -> bool:
    try:
        pwd.getpwnam("mysql")
    except KeyError:
        return False
    result = subprocess.run(
        ["runuser", "-u", "mysql", "--", "test", "-x", str(path)],
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


def pid_file() -> Path:
    """mariadbd's own pid file (written by the server; never trusted for signalling)."""
    return data_root() / "mariadbd.pid"


def datadir() -> Path:
    """Data directory of our own server."""
    return data_root() / "data"


def log_path() -> Path:
    """Error log of our own server."""
    return data_root() / "mariadbd.log"


def socket_path() -> Path:
    """Unix socket of our own server."""
    return data_root() / "mysqld.sock"


def ensure_installed() -> str:
    """Return the server binary, installing mariadb-server with apt when we can."""
    binary = server_binary()
    if binary:
        return binary
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise MariaDBError(
            "MariaDB is not installed and I cannot install it (needs root and apt-get).\n"
            "Install it, then run this again:\n"
            "  Debian/Ubuntu: sudo apt-get install -y mariadb-server mariadb-client\n"
            "  macOS:         brew install mariadb\n"
            "Or point DELAB_DB_HOST/DELAB_DB_PORT at a running MariaDB/MySQL server and set\n"
            "DELAB_DB_SUPERUSER/DELAB_DB_SUPERPASSWORD so the lab's users can be created."
        )
    print("MariaDB not found: installing mariadb-server with apt-get (one time)...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends",
           "mariadb-server", "mariadb-client"]
    if subprocess.run(cmd, env=env, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=False)
        if subprocess.run(cmd, env=env, check=False).returncode != 0:
            raise MariaDBError("apt-get install mariadb-server failed; see the output above.")
    binary = server_binary()
    if not binary:
        raise MariaDBError("mariadb-server was installed but no mariadbd binary was found.")
    return binary


def _initialise_datadir(root: Path) -> None:
    datadir = root / "data"
    if (datadir / "mysql").is_dir():
        return
    installer = _which(INSTALL_DB_BINARIES)
    if not installer:
        raise MariaDBError("mariadb-install-db not found; reinstall mariadb-server.")
    datadir.mkdir(parents=True, exist_ok=True)
    cmd = [installer, "--no-defaults", f"--datadir={datadir}", "--skip-test-db",
           "--auth-root-authentication-method=socket"]
    if os.geteuid() == 0:
        shutil.chown(root, "mysql", "mysql")
        shutil.chown(datadir, "mysql", "mysql")
        cmd.append("--user=mysql")
    print(f"Initialising a MariaDB data directory in {datadir} ...", flush=True)
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        shutil.rmtree(datadir, ignore_errors=True)
        raise MariaDBError(f"mariadb-install-db failed:\n{result.stdout}\n{result.stderr}")


def start_server(settings: Settings, binary: str, timeout: float = 60.0) -> int:
    """Start our own server bound to 127.0.0.1, record it, wait until it answers; return its pid.

    A server that cannot start ends in a one-line :class:`MariaDBError` (another mariadbd
    holding the data directory, the port taken meanwhile, anything else: its last error).
    """
    root = data_root()
    root.mkdir(parents=True, exist_ok=True)
    _initialise_datadir(root)
    log = log_path()
    cmd = [
        binary, "--no-defaults",
        f"--datadir={datadir()}",
        f"--socket={socket_path()}",
        f"--pid-file={pid_file()}",
        f"--log-error={log}",
        "--bind-address=127.0.0.1",
        f"--port={settings.db_port}",
        "--skip-name-resolve",
        "--local-infile=1",
        "--character-set-server=utf8mb4",
        "--innodb-buffer-pool-size=256M",
        "--innodb-flush-log-at-trx-commit=2",
        "--max-allowed-packet=256M",
    ]
    if os.geteuid() == 0:
        cmd.append("--user=mysql")
        for p in (root, datadir()):
            shutil.chown(p, "mysql", "mysql")
    print(f"Starting MariaDB on 127.0.0.1:{settings.db_port} (data in {root}) ...", flush=True)
    log_offset = log.stat().st_size if log.exists() else 0
    tag = secrets.token_hex(16)
    proc = subprocess.Popen(
        cmd, cwd=datadir(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
        env={**os.environ, processes.TAG_VARIABLE: tag},
    )
    # mariadbd works in its data directory (we start it there), which identifies it.
    processes.save_record(processes.ProcessRecord.of(
        SERVICE, proc.pid, port=settings.db_port, data_dir=datadir(), tag=tag,
        expected_cwd=datadir(), log=log))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new_log = _read_log(log, log_offset)
        if proc.poll() is not None or _fatal_start_error(new_log):
            if proc.poll() is None:  # our own child, retrying a lock it cannot get (ignores TERM)
                proc.kill()
                proc.wait(10)
            processes.remove_record(SERVICE)
            raise MariaDBError(_start_failure(new_log, settings.db_port))
        if server_is_up(settings) and socket_path().exists():
            return proc.pid
        time.sleep(0.2)
    raise MariaDBError(f"MariaDB (pid {proc.pid}) did not answer on 127.0.0.1:{settings.db_port} "
                       f"within {timeout:.0f}s; see {log}. `make down` stops it.")


def _read_log(log: Path, offset: int) -> str:
    try:
        with open(log, "rb") as fh:
            fh.seek(offset)
            return fh.read().decode(errors="replace")
    except OSError:
        return ""


# mariadbd retries the Aria lock for 30 s and InnoDB's for longer: these lines mean it cannot win.
_LOCK_MARKERS = ("Can't lock aria control file", "Unable to lock", "already have another mariadbd",
                 "already have another mysqld")


def _fatal_start_error(log_text: str) -> bool:
    """A start-up that cannot succeed however long we wait (InnoDB retries its lock ~100 s)."""
    return any(marker in log_text for marker in _LOCK_MARKERS)


def _start_failure(log_text: str, port: int) -> str:
    """One line saying why mariadbd did not start, from what it just wrote to its log."""
    if _fatal_start_error(log_text):
        holders = [pid for pid in datadir_users() if pid_alive(pid)]
        who = f" ({processes.describe(holders[0])})" if holders else ""
        return (f"MariaDB cannot start: another mariadbd{who} already uses the data dir "
                f"{datadir()} (InnoDB lock). Stop that server (`make down` in the checkout that "
                "started it), then run `make up` again.")
    if "Address already in use" in log_text or "Do you already have another server" in log_text:
        return (f"MariaDB cannot start: port {port} was taken meanwhile by "
                f"{ports.describe_holder(port)}. Run `make up` again (it picks a free port).")
    errors = [line.split("[ERROR]", 1)[1].strip() for line in log_text.splitlines() if "[ERROR]" in line]
    detail = errors[0] if errors else "no error in its log"
    return f"MariaDB exited during start-up: {detail} (log: {log_path()})."


def datadir_users(path: Path | None = None) -> list[int]:
    """Pids of mariadbd/mysqld processes started on our data directory (from their command line)."""
    wanted = os.path.realpath(path or datadir())
    found = []
    for pid in processes.all_pids():
        cmd = processes.cmdline(pid) or []
        if not cmd or os.path.basename(cmd[0]) not in SERVER_BINARIES:
            continue
        for arg in cmd:
            if arg.startswith("--datadir=") and os.path.realpath(arg.split("=", 1)[1]) == wanted:
                found.append(pid)
    return found


@dataclass(frozen=True)
class ServerState:
    """Our server as ``up``/``status``/``down`` see it (nothing is signalled to find out)."""

    record: processes.ProcessRecord | None
    check: processes.Check | None

    @property
    def ours(self) -> bool:
        """Recorded by this checkout, for our data dir, and every recorded fact matches."""
        return bool(self.check and self.check.ours and self.record
                    and self.record.data_dir == str(datadir())
                    and f"--datadir={datadir()}" in self.record.cmdline)


def state() -> ServerState:
    """Read our server's record and compare it with the machine."""
    record = processes.load_record(SERVICE)
    if record is None:
        return ServerState(None, None)
    return ServerState(record, processes.check(record, expected_cwd=datadir()))


def _adopt_unrecorded() -> ServerState:
    """A server on our data dir with the command line we use but no record (started before
    records existed, or its record was lost): record it. Only this checkout starts those."""
    for pid in datadir_users():
        cmd = processes.cmdline(pid) or []
        if f"--socket={socket_path()}" not in cmd or not any(a.startswith("--port=") for a in cmd):
            continue
        port = int(next(a for a in cmd if a.startswith("--port=")).split("=", 1)[1])
        record = processes.ProcessRecord.of(SERVICE, pid, port=port, data_dir=datadir(),
                                            tag=processes.environ_value(pid, processes.TAG_VARIABLE) or "",
                                            expected_cwd=datadir(), log=log_path())
        processes.save_record(record)
        return state()
    return ServerState(None, None)


def our_pid() -> int | None:
    """Pid of the server we started, when its identity is verified."""
    current = state()
    return current.record.pid if current.ours and current.record else None


def _forget_stale(current: ServerState) -> None:
    if current.record is None:
        return
    problem = (current.check.problem if current.check and current.check.problem else
               f"mariadb record (pid {current.record.pid}) names data dir {current.record.data_dir}, "
               f"not ours ({datadir()})")
    print(f"MariaDB: {problem}; left alone, record removed.", flush=True)
    processes.remove_record(SERVICE)


def stop_server(timeout: float = 60.0) -> bool:
    """Stop the server WE started, after verifying its identity; never another one."""
    current = _our_running_server()
    if not current.ours or current.record is None:
        return False
    pid = current.record.pid
    processes.terminate([pid], {pid: current.record.start_ticks}, timeout)  # SIGTERM: clean shutdown
    processes.remove_record(SERVICE)
    return True


def _superuser_sql(settings: Settings, statements: list[str]) -> None:
    """Run statements as the server's superuser (socket auth for root, or a password)."""
    if settings.db_superpassword:
        conn = pymysql.connect(host=settings.db_host, port=settings.db_port,
                               user=settings.db_superuser, password=settings.db_superpassword,
                               autocommit=True)
        try:
            with conn.cursor() as cur:
                for stmt in statements:
                    cur.execute(stmt)
        finally:
            conn.close()
        return
    client = _which(CLIENT_BINARIES)
    if settings.db_socket:
        candidates = [settings.db_socket]
    elif external_server_requested(settings):
        candidates = ["/run/mysqld/mysqld.sock", "/var/run/mysqld/mysqld.sock",
                      "/tmp/mysql.sock"]  # noqa: S108 - where some MySQL builds put their socket
    else:
        candidates = [str(socket_path())]  # ours only: never another server's socket
    sock = next((c for c in candidates if c and Path(c).exists()), None)
    if not client or not sock:
        raise MariaDBError(
            f"A server answers on {settings.db_host}:{settings.db_port} but I have no way in as "
            "its administrator: set DELAB_DB_SUPERUSER and DELAB_DB_SUPERPASSWORD (in .env) to an "
            "account that may create databases and users, or DELAB_DB_SOCKET to its socket.")
    result = subprocess.run(
        [client, f"--socket={sock}", "-u", settings.db_superuser, "--batch"],
        input=";\n".join(statements) + ";\n", capture_output=True, text=True, check=False)
    if result.returncode != 0:
        first = (result.stderr.strip().splitlines() or ["(no message)"])[0]
        raise MariaDBError(
            f"Could not create the lab's database and users as {settings.db_superuser} via {sock}: "
            f"{first}. Set DELAB_DB_SUPERUSER/DELAB_DB_SUPERPASSWORD to an administrator account.")


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def provision_users(settings: Settings) -> None:
    """Create the source database and the lab's two users (idempotent).

    ``admin`` gets every privilege on ``classicmodels`` and its ``classicmodels_*``
    staging copies (used by the loader); the ETL user gets SELECT on
    ``classicmodels`` only: least privilege.
    """
    db = settings.db_name
    stmts = [f"CREATE DATABASE IF NOT EXISTS `{db}` CHARACTER SET utf8mb4"]
    for host in ("127.0.0.1", "localhost"):
        for user, password in ((settings.db_admin_user, settings.db_admin_password),
                               (settings.db_etl_user, settings.db_etl_password)):
            account = f"{_quote(user)}@{_quote(host)}"
            stmts.append(f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY {_quote(password or '')}")
            stmts.append(f"ALTER USER {account} IDENTIFIED BY {_quote(password or '')}")
        admin = f"{_quote(settings.db_admin_user)}@{_quote(host)}"
        stmts.append(f"GRANT ALL PRIVILEGES ON `{db}`.* TO {admin}")
        stmts.append(f"GRANT ALL PRIVILEGES ON `{db}\\_%`.* TO {admin}")  # staging copies
        stmts.append(f"GRANT SELECT ON `{db}`.* TO {_quote(settings.db_etl_user)}@{_quote(host)}")
    _superuser_sql(settings, stmts)


def external_server_requested(settings: Settings) -> bool:
    """True when the settings ask for an existing server rather than our own."""
    return (settings.db_host not in ("127.0.0.1", "localhost") or bool(settings.db_socket)
            or bool(settings.db_superpassword))


def _our_running_server() -> ServerState:
    """Our recorded server (adopting an unrecorded one on our data dir); stale records forgotten."""
    current = state()
    if current.record is not None and not current.ours:
        _forget_stale(current)
        current = ServerState(None, None)
    if current.record is None:
        current = _adopt_unrecorded()
    return current


def ensure_mariadb(settings: Settings | None = None) -> Settings:
    """Install (when needed), start (when not running) and provision MariaDB.

    Returns the settings with the generated passwords loaded (and the port, when ours had
    to move to a free one). Idempotent. Every failure is one line saying what to do.
    """
    ensure_env_file()
    s = settings or get_settings()
    if external_server_requested(s):
        if server_is_up(s):
            print(f"MariaDB answers on {s.db_host}:{s.db_port} (an existing server, used as the "
                  "settings ask; not ours to start or stop).", flush=True)
            provision_users(s)
            return s
        if s.db_host not in ("127.0.0.1", "localhost"):
            raise MariaDBError(f"No MariaDB answers on {s.db_host}:{s.db_port}. Start it, or unset "
                               "DELAB_DB_HOST to let the lab run its own on 127.0.0.1.")
    current = _our_running_server()
    if current.ours and current.record is not None:
        rec = current.record
        if rec.port != s.db_port:
            raise MariaDBError(
                f"Our MariaDB runs on port {rec.port} (pid {rec.pid}, data dir {rec.data_dir}) but "
                f"DELAB_DB_PORT is now {s.db_port}. Run `make down` first (it stops ours), then "
                f"`make up` starts it on {s.db_port}; or set DELAB_DB_PORT={rec.port} again.")
        if not _wait_until_up(s, 30.0):
            raise MariaDBError(f"Our MariaDB (pid {rec.pid}) runs but does not answer on "
                               f"127.0.0.1:{rec.port}; see {log_path()}. `make down` stops it.")
        listeners = ports.holders(rec.port)
        if listeners and rec.pid not in listeners:  # (empty: not ours to inspect)
            raise MariaDBError(f"Port {rec.port} answers, but from {ports.describe_holder(rec.port)}, "
                               f"not from our MariaDB (pid {rec.pid}); see {log_path()}. `make down` "
                               "stops ours; then `make up`.")
        print(f"MariaDB answers on {s.db_host}:{s.db_port} (ours, pid {rec.pid}).", flush=True)
        provision_users(s)
        return s
    others = [pid for pid in datadir_users() if pid_alive(pid)]
    if others:
        raise MariaDBError(
            f"MariaDB cannot start: another mariadbd ({processes.describe(others[0])}) already uses "
            f"the data dir {datadir()} (InnoDB lock). Stop that server, then run `make up` again.")
    if not ports.port_is_free(s.db_port):
        holder = ports.describe_holder(s.db_port)
        try:
            port = ports.move_or_refuse("DELAB_DB_PORT", s.db_port, holder, "MariaDB")
        except ports.PortTaken as exc:
            raise MariaDBError(f"{exc} To use that server instead, set DELAB_DB_SOCKET (or "
                               "DELAB_DB_SUPERUSER/DELAB_DB_SUPERPASSWORD).") from None
        s = get_settings() if settings is None else _with_port(s, port)
    binary = ensure_installed()
    start_server(s, binary)
    provision_users(s)
    return s


def _with_port(settings: Settings, port: int) -> Settings:
    from dataclasses import replace

    return replace(settings, db_port=port)


def _wait_until_up(settings: Settings, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not server_is_up(settings):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.3)
    return True


def connect(role: str = "admin", database: str | None = "", **kwargs) -> pymysql.connections.Connection:
    """Open a pymysql connection as the lab's ``admin`` or read-only ``etl`` user.

    ``database=""`` (default) means the source database; ``None`` means none.
    Errors say what failed and what to do.
    """
    s = get_settings()
    if role == "admin":
        user, password = s.db_admin_user, s.db_admin_password
    elif role == "etl":
        user, password = s.db_etl_user, s.db_etl_password
    else:
        raise ValueError("role must be 'admin' or 'etl'")
    db = s.db_name if database == "" else database
    try:
        return pymysql.connect(host=s.db_host, port=s.db_port, user=user, password=password or "",
                               database=db, charset="utf8mb4", **kwargs)
    except pymysql.err.OperationalError as exc:
        code = exc.args[0] if exc.args else None
        if code == 1045:
            hint = (f"access denied for {user}: check its password in .env "
                    "(DELAB_DB_ADMIN_PASSWORD / DELAB_DB_ETL_PASSWORD), then `make up`.")
        elif code in (2003, 2013):
            hint = "the server is not running: start it with `make up`."
        else:
            hint = str(exc)
        raise MariaDBError(f"Could not connect to MariaDB at {s.db_host}:{s.db_port}: {hint}") from exc


def server_version(settings: Settings | None = None) -> str:
    """Version string of the server (connecting as the read-only user)."""
    conn = connect("etl")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT VERSION()")
            return str(cur.fetchone()[0])
    finally:
        conn.close()
