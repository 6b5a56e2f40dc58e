"""The local MariaDB server: install, start, create the lab's database and users.

Policy (design.md section 3):

- When a server already answers on ``DELAB_DB_HOST:DELAB_DB_PORT`` we use it and
  touch nothing beyond creating our database and users.
- Otherwise we run our own server with its own data directory under ``.delab/``
  (bound to 127.0.0.1, run as the ``mysql`` user because mariadbd refuses root),
  and remember its pid so ``make down`` stops exactly that process.
- When no server binary exists and we are root on Debian/Ubuntu, we install
  ``mariadb-server`` with apt; otherwise we stop with a message saying what to
  install.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from hashlib import sha1
from pathlib import Path

import pymysql

from utils.config import PROJECT_ROOT, STATE_DIR, Settings, ensure_env_file, get_settings


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
    """Pid file of the server we started (absent when we started none)."""
    return data_root() / "mariadbd.pid"


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
    """Start our own server bound to 127.0.0.1 and wait until it answers; return its pid."""
    root = data_root()
    root.mkdir(parents=True, exist_ok=True)
    _initialise_datadir(root)
    log = root / "mariadbd.log"
    cmd = [
        binary, "--no-defaults",
        f"--datadir={root / 'data'}",
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
        for p in (root, root / "data"):
            shutil.chown(p, "mysql", "mysql")
    print(f"Starting MariaDB on 127.0.0.1:{settings.db_port} (data in {root}) ...", flush=True)
    proc = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text()[-2000:] if log.exists() else "(no log)"
            raise MariaDBError(f"MariaDB exited during start-up (code {proc.returncode}):\n{tail}")
        if server_is_up(settings) and socket_path().exists():
            return proc.pid
        time.sleep(0.2)
    raise MariaDBError(f"MariaDB did not answer on 127.0.0.1:{settings.db_port} "
                       f"within {timeout:.0f}s; see {log}.")


def pid_alive(pid: int) -> bool:
    """True when the process exists and is not a zombie (killed but not yet reaped)."""
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True  # no /proc (macOS): trust kill(0)


def our_pid() -> int | None:
    """Pid of the server we started, when it is still running."""
    try:
        pid = int(pid_file().read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if pid_alive(pid) else None


def stop_server(timeout: float = 30.0) -> bool:
    """Stop the server WE started (by its pid file); never another one."""
    pid = our_pid()
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)
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
    candidates = [settings.db_socket] if settings.db_socket else [
        str(socket_path()), "/run/mysqld/mysqld.sock", "/var/run/mysqld/mysqld.sock",
        "/tmp/mysql.sock"]  # noqa: S108 - where some MySQL builds put their socket
    sock = next((c for c in candidates if c and Path(c).exists()), None)
    if not client or not sock:
        raise MariaDBError(
            f"A server answers on {settings.db_host}:{settings.db_port} but it is not ours and "
            "I have no way in as its administrator. Set DELAB_DB_SUPERUSER and "
            "DELAB_DB_SUPERPASSWORD (in the environment or .env) to an account that may "
            "create databases and users, or stop that server so the lab can start its own.")
    result = subprocess.run(
        [client, f"--socket={sock}", "-u", settings.db_superuser, "--batch"],
        input=";\n".join(statements) + ";\n", capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise MariaDBError(
            f"Could not create the lab's database and users as {settings.db_superuser} "
            f"via {sock}:\n{result.stderr.strip()}\nSet DELAB_DB_SUPERUSER/"
            "DELAB_DB_SUPERPASSWORD to an administrator account.")


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


def ensure_mariadb(settings: Settings | None = None) -> Settings:
    """Install (when needed), start (when not running) and provision MariaDB.

    Returns the settings with the generated passwords loaded. Idempotent.
    """
    ensure_env_file()
    s = settings or get_settings()
    if server_is_up(s):
        owner = "ours" if our_pid() else "already running"
        print(f"MariaDB answers on {s.db_host}:{s.db_port} ({owner}).", flush=True)
    else:
        if s.db_host not in ("127.0.0.1", "localhost"):
            raise MariaDBError(f"No MariaDB answers on {s.db_host}:{s.db_port}. Start it, or unset "
                               "DELAB_DB_HOST to let the lab run its own on 127.0.0.1.")
        if port_answers(s.db_host, s.db_port):
            raise MariaDBError(
                f"Port {s.db_port} is taken by something that is not MySQL/MariaDB. "
                "Free it or set DELAB_DB_PORT to another port (e.g. in .env).")
        binary = ensure_installed()
        start_server(s, binary)
    provision_users(s)
    return s


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
