"""A throwaway PostgreSQL server on loopback, for concurrency tests and benchmarks.

Uses Debian's server binaries (`scripts/ensure-system-packages.sh postgresql` installs
them). PostgreSQL refuses to run as root, so as root the server runs as the `postgres`
OS user; either way the superuser role is `postgres` and trust auth is on (loopback only).
Its data lives in a temporary directory removed on stop.

    with LocalPostgres() as postgres:
        url = postgres.start()                  # postgresql+psycopg://...:PORT/adremix
        other = postgres.create_database("t_1")  # a fresh database for one test
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

import psycopg
from psycopg import sql

DATABASE = "adremix"
ROLE = "postgres"
_MISSING = "PostgreSQL server binaries not found; run scripts/ensure-system-packages.sh postgresql"
# Another process can take the free port between our probe and the server's bind.
_START_ATTEMPTS = 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _version(bin_dir: Path) -> tuple[int, ...]:
    name = bin_dir.parent.name  # /usr/lib/postgresql/<version>/bin
    return tuple(int(part) for part in name.split(".")) if name.replace(".", "").isdigit() else ()


def server_binaries() -> Path:
    """The bin directory of the highest installed PostgreSQL version."""
    candidates = [
        path.parent
        for path in Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")
        if (path.parent / "initdb").exists() and _version(path.parent)
    ]
    if not candidates:
        raise RuntimeError(_MISSING)
    return max(candidates, key=_version)


def _as_root() -> bool:
    return os.geteuid() == 0


class LocalPostgres:
    """One PostgreSQL server: `start()` it, `create_database()` per test, `stop()` it."""

    def __init__(self) -> None:
        self.port = 0
        self._dir: Path | None = None
        self._bin: Path | None = None

    @property
    def _data(self) -> Path:
        assert self._dir is not None
        return self._dir / "data"

    def _run(self, *args: str) -> None:
        command = list(args)
        if _as_root():
            command = ["runuser", "-u", ROLE, "--", *command]
        # cwd: as `postgres` we may not be allowed into the caller's directory.
        result = subprocess.run(
            command, cwd=self._dir, capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}{self._log_tail()}"
            )

    def _log_tail(self) -> str:
        if self._dir is None:
            return ""
        with contextlib.suppress(OSError):
            lines = (self._dir / "server.log").read_text(errors="replace").splitlines()
            return "\nserver.log:\n" + "\n".join(lines[-20:])
        return ""

    def url(self, database: str = DATABASE) -> str:
        """The SQLAlchemy URL of one database on this server."""
        return f"postgresql+psycopg://{ROLE}@127.0.0.1:{self.port}/{database}"

    def start(self) -> str:
        """Start the server and return the SQLAlchemy URL of an empty `adremix` database."""
        if self._dir is not None:
            raise RuntimeError("this LocalPostgres is already started")
        self._bin = server_binaries()
        self._dir = Path(tempfile.mkdtemp(prefix="adremix-pg-"))
        atexit.register(self.stop)  # an interrupted run still leaves no server behind
        try:
            sockets = self._dir / "sockets"
            sockets.mkdir()
            if _as_root():
                for path in (self._dir, sockets):
                    shutil.chown(path, ROLE, ROLE)
            self._run(
                str(self._bin / "initdb"),
                *("-A", "trust", "-U", ROLE, "-E", "UTF8", "--no-locale", "-D", str(self._data)),
            )
            for attempt in range(_START_ATTEMPTS):
                self.port = _free_port()
                try:
                    self._pg_ctl_start(sockets)
                    break
                except RuntimeError:
                    if attempt == _START_ATTEMPTS - 1:
                        raise
            return self.create_database(DATABASE)
        except BaseException:
            self.stop()
            raise

    def _pg_ctl_start(self, sockets: Path) -> None:
        assert self._bin is not None and self._dir is not None
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {sockets} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        log = str(self._dir / "server.log")
        self._run(
            str(self._bin / "pg_ctl"),
            *("-D", str(self._data), "-w", "-t", "60", "-l", log, "-o", options, "start"),
        )

    def create_database(self, name: str) -> str:
        """Create an empty database `name` and return its SQLAlchemy URL."""
        if self._dir is None:
            raise RuntimeError("start() the server first")
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user={ROLE} dbname=postgres connect_timeout=10",
            autocommit=True,
        ) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def stop(self) -> None:
        """Stop the server (if it got that far) and remove its files; safe to call twice."""
        if self._dir is None:
            return
        # pg_ctl may have failed after the postmaster came up: its pid file says so.
        if self._bin is not None and (self._data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self._run(
                    str(self._bin / "pg_ctl"), "-D", str(self._data), "-m", "immediate", "stop"
                )
        shutil.rmtree(self._dir, ignore_errors=True)
        self._dir = None
        atexit.unregister(self.stop)

    def __enter__(self) -> LocalPostgres:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
