"""Every service the lab starts listens on the loopback interface only."""

from __future__ import annotations

import psutil

from utils.config import get_settings

LOOPBACK = {"127.0.0.1", "::1"}


def test_mariadb_and_local_cloud_listen_on_loopback_only() -> None:
    s = get_settings()
    ports = {s.db_port: "MariaDB", s.cloud_port: "local cloud"}
    seen: dict[int, set[str]] = {port: set() for port in ports}
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port in ports:
            seen[conn.laddr.port].add(conn.laddr.ip)
    for port, name in ports.items():
        assert seen[port], f"{name} is not listening on port {port} (make up starts it)"
        assert seen[port] <= LOOPBACK, f"{name} listens on {sorted(seen[port])}, not only on loopback"
