"""AdRemix as a cluster on this machine: PostgreSQL, Redis, a local S3 server (moto),
web workers (Reflex on Granian, one port, Redis state manager) and separate job workers.

`make cluster` runs it in the foreground (Ctrl-C stops everything); the cluster browser
tests and bench/scaleout.py start one with `Cluster(...)`. Everything lives in a
temporary directory and goes when the cluster stops.

    python -m tests.cluster [--port 8000] [--web-workers 2] [--job-workers 2]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.app_server import ROOT, RunningApp, app_environment, migrate, run_app
from tests.local_postgres import LocalPostgres
from tests.local_redis import LocalRedis
from tests.local_s3 import create_bucket, s3_environment

BUCKET = "adremix"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class JobWorkerProcess:
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None


class Cluster:
    """Start with `start()` (or use as a context manager); `stop()` ends every process."""

    def __init__(
        self,
        *,
        port: int = 0,
        web_workers: int = 2,
        job_workers: int = 2,
        web: bool = True,
        env: dict[str, str] | None = None,
        workdir: Path | None = None,
    ) -> None:
        self.port = port or _free_port()
        self.web_workers = web_workers
        self.job_worker_count = job_workers
        self.with_web = web
        self.extra_env = env or {}
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="adremix-cluster-"))
        self.env: dict[str, str] = {}
        self.app: RunningApp | None = None
        self.job_workers: list[JobWorkerProcess] = []
        self._stack = ExitStack()
        self._s3: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def database_url(self) -> str:
        return self.env["DATABASE_URL"]

    @property
    def redis_url(self) -> str:
        return self.env["ADREMIX_REDIS_URL"]

    def start(self) -> Cluster:
        try:
            postgres = self._stack.enter_context(LocalPostgres())
            database_url = postgres.start()
            redis = self._stack.enter_context(LocalRedis())
            redis.start()
            s3_url = self._start_s3()
            create_bucket(s3_url, BUCKET)
            self.env = {
                "ADREMIX_ENV": "dev",
                "DATABASE_URL": database_url,
                "ADREMIX_REDIS_URL": redis.url,
                "ADREMIX_JOB_QUEUE": "redis",
                **s3_environment(s3_url, BUCKET),
                "GRANIAN_WORKERS": str(self.web_workers),
                **self.extra_env,
            }
            migrate(database_url)
            for number in range(self.job_worker_count):
                self.add_job_worker(number)
            if self.with_web:
                self.app = self._stack.enter_context(
                    run_app(port=self.port, workdir=self.workdir, env=self.env)
                )
        except BaseException:
            self.stop()
            raise
        return self

    def _start_s3(self) -> str:
        port = _free_port()
        log = (self.workdir / "s3.log").open("wb")
        self._s3 = subprocess.Popen(
            [str(ROOT / ".venv/bin/moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/moto-api/", timeout=1).status_code < 500:
                    return url
            if self._s3.poll() is not None:
                break
            time.sleep(0.1)
        log_text = (self.workdir / "s3.log").read_text()
        raise RuntimeError(f"the local S3 server did not start:\n{log_text}")

    def add_job_worker(self, number: int | None = None) -> JobWorkerProcess:
        """Start one more `python -m adremix worker` process."""
        number = len(self.job_workers) if number is None else number
        log_path = self.workdir / f"job-worker-{number}.log"
        process = subprocess.Popen(
            [str(ROOT / ".venv/bin/python"), "-m", "adremix", "worker"],
            cwd=ROOT,
            env=app_environment(self.workdir, self.env),
            stdout=log_path.open("wb"),
            stderr=subprocess.STDOUT,
        )
        worker = JobWorkerProcess(process, log_path)
        self.job_workers.append(worker)
        return worker

    def job_worker(self, pid: int) -> JobWorkerProcess:
        return next(w for w in self.job_workers if w.pid == pid)

    def kill_job_worker(self, pid: int) -> None:
        """`kill -9`: no hand-back, no cleanup, as when a machine dies."""
        worker = self.job_worker(pid)
        os.kill(worker.pid, signal.SIGKILL)
        worker.process.wait()

    def stop(self) -> None:
        for worker in self.job_workers:
            if worker.alive():
                worker.process.terminate()
        for worker in self.job_workers:
            try:
                worker.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
        self.job_workers = []
        self._stack.close()  # the web workers, then Redis and PostgreSQL
        if self._s3 is not None:
            self._s3.terminate()
            self._s3.wait(timeout=10)
            self._s3 = None

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="make cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--job-workers", type=int, default=2)
    args = parser.parse_args()
    print("Starting PostgreSQL, Redis, a local S3 server, the web and job workers…", flush=True)
    cluster = Cluster(port=args.port, web_workers=args.web_workers, job_workers=args.job_workers)
    stop = False

    def request_stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with cluster:
        print(
            f"AdRemix cluster on {cluster.base_url}: {args.web_workers} web workers, "
            f"{args.job_workers} job workers (pids "
            f"{', '.join(str(w.pid) for w in cluster.job_workers)}).\n"
            f"  database  {cluster.database_url}\n  redis     {cluster.redis_url}\n"
            f"  s3        {cluster.env['ADREMIX_S3_ENDPOINT_URL']} bucket {BUCKET}\n"
            f"  logs      {cluster.workdir}\nCtrl-C stops everything (the data goes with it).",
            flush=True,
        )
        while not stop:
            time.sleep(0.5)
    print("Cluster stopped.", file=sys.stderr)


if __name__ == "__main__":
    main()
