"""/health answers for liveness and readiness (database, Redis, storage); /metrics gives
Prometheus the job and ledger figures, only with its token."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from adremix.db import session_scope
from adremix.models import User
from adremix.services import generation as generations
from adremix.services.generation import OfflineEngine, RemixOptions
from adremix.settings import get_settings
from tests.conftest import app_client
from tests.factories import funded_user, jpeg

TOKEN = "metrics-token-0123456789"


def fresh_client(monkeypatch: pytest.MonkeyPatch, **env: str) -> TestClient:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return app_client(get_settings())


def test_liveness_and_readiness_on_the_default_set_up(client: TestClient) -> None:
    assert client.get("/health/live").json() == {"status": "ok"}
    ready = client.get("/health")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ok",
        "checks": {"database": "ok", "storage": "ok", "redis": "not configured"},
    }
    assert ready.headers["cache-control"] == "no-store"
    assert client.get("/health/ready").json() == ready.json()


def test_readiness_checks_redis_and_s3_when_configured(
    database_url: str, redis_queue: str, s3_bucket: str
) -> None:
    answer = app_client(get_settings()).get("/health")
    assert answer.status_code == 200
    assert answer.json()["checks"] == {"database": "ok", "redis": "ok", "storage": "ok"}


def test_readiness_fails_when_a_dependency_is_down(
    database_url: str, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = fresh_client(
        monkeypatch,
        ADREMIX_REDIS_URL="redis://127.0.0.1:9/0",  # nothing listens on the discard port
        ADREMIX_S3_BUCKET="no-such-bucket",
    )
    answer = client.get("/health")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "unavailable" and body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("failed")
    assert body["checks"]["storage"].startswith("failed")
    assert client.get("/health/live").status_code == 200  # alive, just not ready


def test_metrics_need_their_token(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert app_client(get_settings()).get("/metrics").status_code == 404  # no token: off
    client = fresh_client(monkeypatch, ADREMIX_METRICS_TOKEN=TOKEN)
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def test_metrics_report_jobs_latency_and_ledger_errors(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = fresh_client(monkeypatch, ADREMIX_METRICS_TOKEN=TOKEN)
    user_id = funded_user(5)
    upload = generations.ingest_source(user_id=user_id, data=jpeg())

    def start(key: str) -> int:
        return generations.start_generation(
            user_id=user_id,
            client_request_id=key,
            source_sha256=upload.sha256,
            options=RemixOptions(instructions=key),
            provider="offline",
            model="offline-v1",
        ).generation_id

    done, waiting = start("done"), start("waiting")
    asyncio.run(generations.run_generation(generation_id=done, provider=OfflineEngine()))
    figures = samples(client)

    assert figures[("adremix_generation_jobs", (("state", "queued"),))] == 1
    assert figures[("adremix_generation_jobs", (("state", "running"),))] == 0
    assert figures[("adremix_generation_jobs_finished_total", (("status", "succeeded"),))] == 1
    assert figures[("adremix_generation_jobs_finished_total", (("status", "failed"),))] == 0
    assert figures[("adremix_generation_latency_seconds_count", ())] == 1
    assert figures[("adremix_generation_latency_seconds_bucket", (("le", "+Inf"),))] == 1
    assert figures[("adremix_ledger_errors", ())] == 0
    assert waiting != done

    # A balance that no longer matches its entries is a ledger error.
    with session_scope() as session:
        user = session.get(User, user_id)
        assert user is not None
        user.credit_balance += 7
        session.add(user)
    assert samples(client)[("adremix_ledger_errors", ())] == 1
