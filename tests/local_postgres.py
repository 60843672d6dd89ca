"""A throwaway PostgreSQL server on loopback, for concurrency tests and benchmarks.

Uses Debian's server binaries (`scripts/ensure-system-packages.sh postgresql` installs
them). PostgreSQL refuses to run as root, so as root the server runs as the `postgres`
user; its data lives in a temporary directory removed on stop.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

DATABASE = "adremix"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _binaries() -> Path:
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name)
    )
    if not versions:
        raise RuntimeError(
            "PostgreSQL server binaries not found; run scripts/ensure-system-packages.sh postgresql"
        )
    return versions[-1].parent


class LocalPostgres:
    def __init__(self) -> None:
        self.port = 0
        self._dir: Path | None = None
        self._started = False

    def _run(self, *args: str) -> None:
        command = list(args)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)

    def start(self) -> str:
        """Start the server and return the SQLAlchemy URL of an empty database."""
        bin_dir = _binaries()
        self._dir = Path(tempfile.mkdtemp(prefix="adremix-pg-"))
        data, sockets = self._dir / "data", self._dir / "sockets"
        sockets.mkdir()
        if os.geteuid() == 0:
            for path in (self._dir, sockets):
                shutil.chown(path, "postgres", "postgres")
        self.port = _free_port()
        self._run(
            str(bin_dir / "initdb"),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-locale",
            "-D",
            str(data),
        )
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {sockets} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        self._run(
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-w",
            "-t",
            "60",
            "-l",
            str(self._dir / "server.log"),
            "-o",
            options,
            "start",
        )
        self._started = True
        return self.create_database(DATABASE)

    def create_database(self, name: str) -> str:
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self._dir is None:
            return
        if self._started:
            with contextlib.suppress(subprocess.CalledProcessError):
                self._run(
                    str(_binaries() / "pg_ctl"),
                    "-D",
                    str(self._dir / "data"),
                    "-m",
                    "immediate",
                    "stop",
                )
        shutil.rmtree(self._dir, ignore_errors=True)
        self._dir, self._started = None, False

    def __enter__(self) -> LocalPostgres:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
