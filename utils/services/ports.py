"""Who holds a port, and which port our own server uses when another program holds ours.

The holder of a listening port is found from ``/proc/net/tcp`` (its socket inode) and
``/proc/<pid>/fd`` (which process has that socket open). Processes of other users are
unreadable unless we are root: they are then "another program".

A port held by a program that is not ours is never taken over. When the port came from
``.env`` or the default, the next free port is used for our server and remembered in
``.env`` (as ``make lab`` does for JupyterLab); when it was set in the shell's environment
we cannot override it, so the message names the setting to change.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from utils.config import remember, setting_source
from utils.services import processes

PROC_NET = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))
LISTEN = "0A"


class PortTaken(RuntimeError):  # noqa: N818 - reads as the situation it names
    """Our port is held by another program and the setting cannot be changed for the user."""


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when a server could listen on host:port right now.

    SO_REUSEADDR as servers set it (werkzeug, mariadbd): connections of a server that just
    stopped linger in TIME_WAIT for a minute and must not count as the port being taken.
    """
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def next_free_port(start: int, attempts: int = 50,
                   avoid: set[int] | frozenset[int] = frozenset()) -> int | None:
    """The first port from ``start`` on that is free (and not in ``avoid``), or None."""
    for port in range(start, start + attempts):
        if port not in avoid and port_is_free(port):
            return port
    return None


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in PROC_NET:
        try:
            lines = table.read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) < 10 or parts[3] != LISTEN:
                continue
            if int(parts[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(parts[9])
    return inodes


def holders(port: int) -> list[int]:
    """Pids of the processes listening on ``port`` (only those we may inspect)."""
    inodes = _listening_inodes(port)
    if not inodes:
        return []
    wanted = {f"socket:[{inode}]" for inode in inodes}
    found = []
    for pid in processes.all_pids():
        fd_dir = processes.PROC / str(pid) / "fd"
        try:
            names = os.listdir(fd_dir)
        except OSError:
            continue
        for name in names:
            try:
                if os.readlink(fd_dir / name) in wanted:
                    found.append(pid)
                    break
            except OSError:
                continue
    return sorted(found)


def _datadir_of(cmd: list[str]) -> str | None:
    for arg in cmd:
        if arg.startswith("--datadir="):
            return arg.split("=", 1)[1]
    return None


def describe_holder(port: int) -> str:
    """One phrase naming what listens on ``port``: a checkout's service, a program, or unknown."""
    pids = holders(port)
    if not pids:
        return "another program (its process is not visible to this user)"
    # Prefer the oldest process (a server's parent, not its worker threads/children).
    pid = min(pids, key=lambda p: processes.start_ticks(p) or 0)
    cmd = processes.cmdline(pid) or []
    exe = os.path.basename(cmd[0]) if cmd else ""
    datadir = _datadir_of(cmd)
    if exe in ("mariadbd", "mysqld") and datadir:
        owner = checkout_of_datadir(datadir)
        where = f"the MariaDB of checkout {owner}" if owner else exe
        return f"{where} (pid {pid}, data dir {datadir})"
    if "utils.cloud" in cmd and "serve" in cmd:
        where = processes.cwd(pid)
        return f"the local cloud of checkout {where} (pid {pid})" if where else f"a local cloud (pid {pid})"
    return processes.describe(pid)


def checkout_of_datadir(datadir: str) -> str | None:
    """The project root of a delab MariaDB data dir (``<root>/.delab/mariadb/data``), if it is one."""
    path = Path(datadir)
    if path.name == "data" and path.parent.name == "mariadb" and path.parent.parent.name == ".delab":
        return str(path.parent.parent.parent)
    if path.parent.name.startswith("mariadb-") and path.parent.parent == Path("/var/lib/delab"):
        return f"(data under {path.parent})"
    return None


def move_or_refuse(setting: str, port: int, holder: str, service: str) -> int:
    """Our ``setting`` port is held by ``holder``: pick the next free port, or say what to change.

    Returns the new port (already remembered in ``.env``) or raises :class:`PortTaken`
    when the port was set in the shell's environment (which wins over ``.env``).
    """
    suggestion = next_free_port(port + 1)
    if setting_source(setting) == "environment":
        hint = f", e.g. {suggestion}" if suggestion else ""
        raise PortTaken(
            f"Port {port} for {service} is held by {holder}: not ours, left alone. {setting}={port} "
            f"is set in this shell: set it to a free port{hint}, or unset it so `make up` picks one "
            "and remembers it in .env.")
    if suggestion is None:
        raise PortTaken(f"Port {port} for {service} is held by {holder}, and no port in "
                        f"{port + 1}-{port + 50} is free: set {setting} in .env to a free port.")
    remember({setting: str(suggestion)})
    print(f"Port {port} is held by {holder}: not ours, left alone. Our {service} uses port "
          f"{suggestion} instead (remembered in .env as {setting}={suggestion}; in shells opened "
          "before, run `eval \"$(make -s env)\"` again).", flush=True)
    return suggestion
