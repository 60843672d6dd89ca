"""Scale-out benchmark: 100 generation jobs on the cluster, one job worker killed midway.

    .venv/bin/python bench/scaleout.py

Starts the job side of the cluster (tests/cluster.py: PostgreSQL, Redis, the local S3
server and two `python -m adremix worker` processes) against a fake OpenAI images API in
its own process that takes 2 s per image (warmed first, so it measures the client side).
Then, in the same run:

1. 100 bare `openai` SDK image edits at once to that fake: the baseline;
2. 100 presses of Generate at once (one image each, credits reserved, queued through
   Redis), and once the job workers are busy with them, `kill -9` of the worker that
   holds the most jobs; the other one resumes its jobs. Timed until every job settled.

Then counts what the issue asks: completed and failed jobs, jobs charged more than they
delivered (charged_twice), jobs never settled (lost), and `ledger verify`. Ends with one
JSON line: jobs, completed, failed, charged_twice, lost, ledger_ok, wall_s,
bare_sdk_wall_s. Targets: completed == jobs, charged_twice == 0, lost == 0, ledger_ok,
wall_s <= 1.5 x bare_sdk_wall_s.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

JOBS = 100
USERS = 20
PROVIDER_DELAY_S = 2.0
SETTLE_DEADLINE_S = 120.0


def use_cluster(env: dict[str, str]) -> None:
    """Point this process's app settings at the cluster, as a web worker's would be."""
    os.environ.update(env)
    from adremix.settings import get_settings

    get_settings.cache_clear()


def make_users() -> list[tuple[int, str]]:
    """Users with enough credits, each with an uploaded ad (stored in the cluster's S3)."""
    from PIL import Image

    from adremix.services import generation as generations
    from tests.factories import funded_user

    image = Image.linear_gradient("L").resize((1600, 1200)).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    users = []
    for number in range(USERS):
        user_id = funded_user(JOBS, email=f"scale{number}@example.com")
        upload = generations.ingest_source(user_id=user_id, data=buffer.getvalue())
        users.append((user_id, upload.sha256))
    return users


async def press_generate(users: list[tuple[int, str]]) -> tuple[list[int], float, float]:
    """The presses; returns their generations and when the first was made (the timer's
    start, and the same moment by the wall clock the rows' timestamps use). This process
    stands in for a web worker, whose queue connection is made when it starts
    (`serve_in_process`), not by a user's press: so here too, before timing."""
    from adremix.services import generation as generations
    from adremix.services.generation import RemixOptions

    await generations.job_queue().start()
    began_at = time.time()
    began = time.perf_counter()
    started = await asyncio.gather(
        *(
            generations.submit_generation(
                user_id=users[i % USERS][0],
                client_request_id=f"scale-{i}",
                source_sha256=users[i % USERS][1],
                options=RemixOptions(instructions="scale-out"),
                fresh=True,
            )
            for i in range(JOBS)
        )
    )
    await generations.job_queue().close()
    return [s.generation_id for s in started], began, began_at


def leases() -> dict[int, int]:
    """Running jobs per job worker pid."""
    from sqlmodel import select

    from adremix.db import session_scope
    from adremix.models import Generation

    with session_scope() as session:
        owners = session.exec(
            select(Generation.lease_owner).where(
                Generation.status == "running",
                Generation.lease_owner.is_not(None),  # type: ignore[union-attr]
            )
        ).all()
    held: dict[int, int] = {}
    for owner in owners:
        pid = int(str(owner).split(":")[1])
        held[pid] = held.get(pid, 0) + 1
    return held


def unsettled(ids: list[int]) -> int:
    from sqlalchemy import func
    from sqlmodel import select

    from adremix.db import session_scope
    from adremix.models import Generation

    with session_scope() as session:
        return session.exec(
            select(func.count())
            .select_from(Generation)
            .where(Generation.id.in_(ids), Generation.status == "running")  # type: ignore[union-attr]
        ).one()


def timeline(ids: list[int], began_at: float) -> dict[str, float]:
    """When, in seconds from the first press, the jobs' phases happened, read back from
    the rows afterwards (nothing polls while the clock runs): the last press reserved,
    the dead worker's jobs queued again (the sweep's detection), the last of them and
    the last of the others settled."""
    from sqlmodel import select

    from adremix.db import session_scope
    from adremix.models import Generation

    with session_scope() as session:
        rows = session.exec(select(Generation).where(Generation.id.in_(ids))).all()  # type: ignore[union-attr]
    redone = [r for r in rows if r.attempts > 1]
    others = [r for r in rows if r.attempts <= 1]

    def at(moments: list[object]) -> float:
        stamps = [m.timestamp() for m in moments if m is not None]  # type: ignore[attr-defined]
        return round(max(stamps) - began_at, 2) if stamps else float("nan")

    def first(moments: list[object]) -> float:
        stamps = [m.timestamp() for m in moments if m is not None]  # type: ignore[attr-defined]
        return round(min(stamps) - began_at, 2) if stamps else float("nan")

    return {
        "last_reserved": at([r.created_at for r in rows]),
        "redone": len(redone),
        "requeued_first": first([r.enqueued_at for r in redone]),
        "requeued_last": at([r.enqueued_at for r in redone]),
        "redone_last_settled": at([r.completed_at for r in redone]),
        "others_last_settled": at([r.completed_at for r in others]),
    }


def outcome(ids: list[int]) -> dict[str, object]:
    from sqlmodel import select

    from adremix.db import session_scope
    from adremix.enums import CreditKind
    from adremix.models import CreditTransaction, Generation
    from adremix.services import payments

    with session_scope() as session:
        rows = session.exec(select(Generation).where(Generation.id.in_(ids))).all()  # type: ignore[union-attr]
        entries = session.exec(
            select(CreditTransaction).where(
                CreditTransaction.kind.in_([CreditKind.GENERATION, CreditKind.GENERATION_REFUND]),  # type: ignore[attr-defined]
                CreditTransaction.reference.in_([str(i) for i in ids]),  # type: ignore[union-attr]
            )
        ).all()
    paid: dict[str, int] = {}
    for entry in entries:
        paid[entry.reference or ""] = paid.get(entry.reference or "", 0) - entry.amount
    audit = payments.audit_ledger()
    return {
        "completed": sum(1 for r in rows if r.status == "succeeded"),
        "failed": sum(1 for r in rows if r.status in ("failed", "partial")),
        # Settled, yet paid for more images than it delivered.
        "charged_twice": sum(
            1
            for r in rows
            if r.status != "running" and paid.get(str(r.id), 0) > len(r.output_hashes)
        ),
        "lost": sum(1 for r in rows if r.status == "running") + JOBS - len(rows),
        "ledger_ok": not audit.mismatches and not audit.refund_problems,
    }


def main() -> None:
    from bench.openai_baseline import API_KEY, bare_sdk_calls, fake_images_api
    from tests.cluster import Cluster

    env = {
        "OPENAI_API_KEY": API_KEY,
        "OPENAI_MAX_RETRIES": "0",
        "OPENAI_TIMEOUT_S": "60",
        # Sweep often: on PostgreSQL a dead worker's jobs are found by its vanished lock.
        "ADREMIX_JOB_SWEEP_S": "0.25",
    }
    with (
        fake_images_api(delay_s=PROVIDER_DELAY_S) as base_url,
        Cluster(web=False, job_workers=2, env=env | {"OPENAI_BASE_URL": base_url}) as cluster,
    ):
        use_cluster(cluster.env)
        from adremix.enums import ImageKind
        from adremix.services.storage import default_storage

        users = make_users()
        source_png = default_storage().read(ImageKind.PREPARED, users[0][1])
        asyncio.run(bare_sdk_calls(base_url, source_png, 1))  # warm the fake
        started = time.perf_counter()
        asyncio.run(bare_sdk_calls(base_url, source_png, JOBS))
        bare = time.perf_counter() - started

        ids, started, began_at = asyncio.run(press_generate(users))
        submitted = time.perf_counter() - started
        # Midway: once the workers hold the jobs and half the provider time has passed.
        while time.perf_counter() - started < PROVIDER_DELAY_S / 2 or len(leases()) < 2:
            time.sleep(0.02)
        held = leases()
        victim = max(held, key=lambda pid: held[pid])
        cluster.kill_job_worker(victim)
        killed_at = time.perf_counter() - started
        deadline = started + SETTLE_DEADLINE_S
        while unsettled(ids) and time.perf_counter() < deadline:
            time.sleep(0.05)
        wall = time.perf_counter() - started
        figures = outcome(ids)
        phases = timeline(ids, began_at)

    print(f"{JOBS} bare SDK calls at once, provider takes {PROVIDER_DELAY_S:.0f} s: {bare:.2f} s")
    print(
        f"{JOBS} jobs on 2 job workers (all accepted after {submitted:.2f} s), worker "
        f"{victim} ({held[victim]} jobs running) killed at {killed_at:.2f} s: {wall:.2f} s "
        f"wall, {wall / bare:.2f}x bare (target <= 1.5)"
    )
    print(
        f"timeline (s from the first press): last press reserved {phases['last_reserved']}, "
        f"killed {killed_at:.2f}, its {phases['redone']} jobs queued again "
        f"{phases['requeued_first']}-{phases['requeued_last']}, the last of them settled "
        f"{phases['redone_last_settled']}, the last of the others "
        f"{phases['others_last_settled']}; bare {bare:.2f}"
    )
    print(
        f"completed {figures['completed']}, failed {figures['failed']}, charged twice "
        f"{figures['charged_twice']}, lost {figures['lost']}, ledger ok {figures['ledger_ok']}"
    )
    print(
        json.dumps(
            {
                "jobs": JOBS,
                **figures,
                "wall_s": round(wall, 2),
                "bare_sdk_wall_s": round(bare, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
