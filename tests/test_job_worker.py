"""A separate job worker (`python -m adremix worker`, Redis queue) stops gracefully on
SIGTERM: it lets a job finish within ADREMIX_WORKER_SHUTDOWN_S, or hands it back so
another worker resumes it, charged once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from adremix.services import generation as generations
from tests.app_server import ROOT
from tests.factories import balance, funded_user
from tests.fakes.openai_images import FakeOpenAIImages
from tests.test_jobs import ledger, row, start, use_fake_openai, wait_until


class WorkerProcess:
    def __init__(self, log_path: Path, **env: str) -> None:
        self.log_path = log_path
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "adremix", "worker"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def terminate_and_wait(self, timeout_s: float = 30) -> tuple[int, float]:
        """SIGTERM; returns the exit code and how long the worker took to exit."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout_s)
        return code, time.monotonic() - started

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text()


def enqueue(generation_id: int) -> None:
    async def put() -> None:
        await generations.job_queue().enqueue(generation_id)

    asyncio.run(put())


class Workers:
    """The worker processes a test starts, stopped (killed if need be) after it."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.started: list[WorkerProcess] = []

    def start(self) -> WorkerProcess:
        worker = WorkerProcess(self.tmp_path / f"worker-{len(self.started)}.log")
        self.started.append(worker)
        return worker

    def start_on(self, generation_id: int) -> WorkerProcess:
        """A worker, and the job queued for it; returns once it holds the job's lease."""
        worker = self.start()
        enqueue(generation_id)
        wait_until(lambda: row(generation_id).lease_owner is not None)
        return worker


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    started = Workers(tmp_path)
    yield started
    for worker in started.started:
        worker.stop()


def test_sigterm_hands_back_a_running_job_and_another_worker_resumes_it(
    database_url: str,
    redis_queue: str,
    openai_images: FakeOpenAIImages,
    monkeypatch: pytest.MonkeyPatch,
    workers: Workers,
) -> None:
    use_fake_openai(monkeypatch, openai_images, ADREMIX_WORKER_SHUTDOWN_S="1")
    user_id = funded_user(2)
    generation_id = start(user_id, variations=2)
    openai_images.script(["ok", ("delay", 60)])
    first = workers.start_on(generation_id)
    wait_until(lambda: len(openai_images.requests) == 2)

    code, took = first.terminate_and_wait()

    assert code == 0, first.log()
    assert took < 10, f"took {took:.1f} s to stop"
    assert "Handed back generation(s) [" in first.log()
    handed = row(generation_id)
    assert handed.status == "running" and handed.lease_owner is None

    workers.start()
    wait_until(lambda: row(generation_id).status != "running", timeout_s=60)

    assert row(generation_id).status == "succeeded" and row(generation_id).attempts == 2
    assert len(openai_images.requests) == 3  # the handed-back variation, once more
    assert balance(user_id) == 0 and ledger(user_id) == [("purchase", 2), ("generation", -2)]


def test_sigterm_lets_a_job_that_finishes_in_time_finish(
    database_url: str,
    redis_queue: str,
    openai_images: FakeOpenAIImages,
    monkeypatch: pytest.MonkeyPatch,
    workers: Workers,
) -> None:
    use_fake_openai(monkeypatch, openai_images, ADREMIX_WORKER_SHUTDOWN_S="30")
    user_id = funded_user(1)
    generation_id = start(user_id, variations=1)
    openai_images.script([("delay", 2)])
    worker = workers.start_on(generation_id)

    code, took = worker.terminate_and_wait()

    assert code == 0, worker.log()
    assert took < 20
    finished = row(generation_id)
    assert (finished.status, finished.attempts) == ("succeeded", 1)
    assert balance(user_id) == 0
