"""A loopback TCP proxy the end-to-end tests put between the ETL job and MariaDB.

It lets a test take the database "down" in the middle of a job run (``cut_after``
bytes sent to the client) or slow it down (``delay`` per chunk) without touching
the real server that other tests share.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time


class TcpProxy:
    """Forward 127.0.0.1:<port> to ``target``; optionally fail or slow down on purpose."""

    def __init__(self, target: tuple[str, int], cut_after: int | None = None, delay: float = 0.0) -> None:
        self.target = target
        self.cut_after = cut_after
        self.delay = delay
        self.sent = 0
        self.cut = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.cut.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.cut.is_set():
                client.close()
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, True), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, to_client: bool) -> None:
        try:
            while not self.cut.is_set():
                chunk = source.recv(16384)
                if not chunk:
                    break
                if to_client and self.delay:
                    time.sleep(self.delay)
                sink.sendall(chunk)
                if to_client:
                    with self._lock:
                        self.sent += len(chunk)
                        over = self.cut_after is not None and self.sent >= self.cut_after
                    if over:
                        self.close()
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """The database 'goes down': every connection drops and new ones are refused."""
        self.cut.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
                except OSError:
                    pass
