"""A throwaway Redis server on loopback, for the queue tests, the cluster and benchmarks.

Uses Debian's `redis-server` (`scripts/ensure-system-packages.sh redis-server`). Nothing
is persisted: the data lives in memory and the working directory is removed on stop.

    with LocalRedis() as redis:
        url = redis.start()   # redis://127.0.0.1:PORT/0
"""

from __future__ import annotations

import atexit
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

_MISSING = "redis-server not found; run scripts/ensure-system-packages.sh redis-server"
_START_ATTEMPTS = 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalRedis:
    def __init__(self) -> None:
        self.port = 0
        self._dir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> str:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(binary).exists():
            raise RuntimeError(_MISSING)
        self._dir = Path(tempfile.mkdtemp(prefix="adremix-redis-"))
        atexit.register(self.stop)
        for attempt in range(_START_ATTEMPTS):
            self.port = _free_port()
            log = (self._dir / "redis.log").open("wb")
            self._process = subprocess.Popen(
                [
                    binary,
                    *("--port", str(self.port), "--bind", "127.0.0.1"),
                    *("--save", "", "--appendonly", "no", "--dir", str(self._dir)),
                    # Reflex's Redis state manager listens for key expiry events.
                    *("--notify-keyspace-events", "KEA"),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            if self._wait_ready():
                return self.url
            self._process.kill()
            self._process.wait()
            if attempt == _START_ATTEMPTS - 1:
                raise RuntimeError(f"redis-server did not start: {self._log_tail()}")
        return self.url

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def _log_tail(self) -> str:
        if self._dir is None:
            return ""
        try:
            return (self._dir / "redis.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        atexit.unregister(self.stop)

    def __enter__(self) -> LocalRedis:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
