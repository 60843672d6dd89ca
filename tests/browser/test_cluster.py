"""The cluster (PostgreSQL, Redis, local S3, 2 web workers, 2 job workers) from a browser:
the job worker holding a 4-image generation is `kill -9`ed, the other one finishes it,
the user pays exactly 4 credits and sees all four images without reloading."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from adremix.db import engine_for, session_scope
from adremix.enums import CreditKind
from adremix.models import CreditTransaction, Generation, GenerationOutput, User
from adremix.services import credits
from tests.app_server import ROOT
from tests.browser.conftest import sign_in_as_developer
from tests.browser.test_generation import SIGNUP_BONUS, ad_image, upload
from tests.cluster import Cluster
from tests.fakes.openai_images import FakeOpenAIImages

pytestmark = pytest.mark.cluster

BOUGHT = 10
INSTRUCTIONS = "Monsoon sale, four ways"


def grant(cluster: Cluster, email: str, amount: int) -> None:
    with session_scope(engine_for(cluster.database_url)) as session:
        user_id = session.exec(select(User.id).where(User.email == email)).one()
        credits.grant(
            session=session,
            user_id=user_id,
            amount=amount,
            kind=CreditKind.PURCHASE,
            idempotency_key=f"cluster-test:{email}",
        )


def latest_generation(cluster: Cluster) -> tuple[Generation | None, list[GenerationOutput]]:
    with session_scope(engine_for(cluster.database_url)) as session:
        row = session.exec(select(Generation).order_by(Generation.id.desc())).first()  # type: ignore[union-attr]
        if row is None:
            return None, []
        outputs = session.exec(
            select(GenerationOutput).where(GenerationOutput.generation_id == row.id)
        ).all()
        return row, list(outputs)


def wait_for(condition, timeout_s: float = 60.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_the_cluster_is_ready(cluster: Cluster) -> None:
    answer = httpx.get(f"{cluster.base_url}/health", timeout=10)
    assert answer.status_code == 200
    assert answer.json()["checks"] == {"database": "ok", "redis": "ok", "storage": "ok"}
    assert sum(worker.alive() for worker in cluster.job_workers) == 2


def test_a_killed_job_worker_s_generation_finishes_on_the_other_one(
    page: Page, browser: Browser, cluster: Cluster, cluster_openai: FakeOpenAIImages, tmp_path: Path
) -> None:
    cluster_openai.reset()
    # Two images come back quickly; the other two are still being made when their
    # worker dies. After the takeover every image comes back in half a second.
    cluster_openai.script([("delay", 1.0), ("delay", 1.0), ("delay", 60), ("delay", 60)])
    cluster_openai.default_delay_s = 0.5
    email = "cluster-user@example.com"
    page.goto(f"{cluster.base_url}/login?next=/new")
    sign_in_as_developer(page, email)
    expect(page.locator("#engine-label")).to_have_text("OpenAI gpt-image-1")
    grant(cluster, email, BOUGHT)
    page.reload()
    expect(page.locator("#credit-balance")).to_have_text(str(SIGNUP_BONUS + BOUGHT))

    upload(page, ad_image(tmp_path / "ad.jpg"))
    expect(page.locator("#source-preview")).to_be_visible()
    page.locator("#instructions").fill(INSTRUCTIONS)
    page.locator("#variations").select_option("4")
    page.locator("#generate").click()

    # The job worker that holds the lease has delivered two images: kill it.
    def half_done() -> str | None:
        row, outputs = latest_generation(cluster)
        return row.lease_owner if row and row.lease_owner and len(outputs) == 2 else None

    owner = wait_for(half_done)
    victim = int(owner.split(":")[1])
    cluster.kill_job_worker(victim)

    # The page shows all four images, with no reload, once the other worker resumed it.
    expect(page.locator(".job-card .result-thumb")).to_have_count(4, timeout=90_000)
    expect(page.locator(".job-card")).to_contain_text("Done")
    expect(page.locator("#credit-balance")).to_have_text(str(SIGNUP_BONUS + BOUGHT - 4))

    row, outputs = latest_generation(cluster)
    assert row is not None
    assert (row.status, row.attempts, row.credits_spent) == ("succeeded", 2, 4)
    assert sorted(o.index for o in outputs) == [0, 1, 2, 3]
    assert sorted(o.attempt for o in outputs) == [1, 1, 2, 2]  # resumed, not redone
    with session_scope(engine_for(cluster.database_url)) as session:
        movements = session.exec(
            select(CreditTransaction.kind, CreditTransaction.amount).where(
                CreditTransaction.reference == str(row.id)
            )
        ).all()
    assert movements == [("generation", -4)]  # charged exactly 4, nothing refunded
    verify = subprocess.run(
        [sys.executable, "-m", "adremix", "ledger", "verify"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": cluster.database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verify.returncode == 0, verify.stderr
    cluster.add_job_worker()  # back to two for whatever runs next

    # A reload keeps the source, the options and the job card ...
    page.reload()
    expect(page.locator(".job-card .result-thumb")).to_have_count(4)
    expect(page.locator("#source-preview")).to_be_visible()
    expect(page.locator("#instructions")).to_have_value(INSTRUCTIONS)
    # ... and so does a page whose state is gone (a new tab, or a restart): it comes
    # back from the database.
    fresh = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        other = fresh.new_page()
        other.goto(f"{cluster.base_url}/login?next=/new")
        sign_in_as_developer(other, email)
        expect(other.locator(".job-card .result-thumb")).to_have_count(4, timeout=30_000)
        expect(other.locator("#source-preview")).to_be_visible()
        expect(other.locator("#instructions")).to_have_value(INSTRUCTIONS)
        expect(other.locator("#variations")).to_have_value("4")
    finally:
        fresh.close()
