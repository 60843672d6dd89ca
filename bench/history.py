"""History query benchmark: 10,000 generations for one user.

    .venv/bin/python bench/history.py

p50 and p95 of the history query for page 1, a deep page and a combined filter with text
search, on SQLite and on a throwaway local PostgreSQL. Ends with one JSON line.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Unset ADREMIX_ENV means production; a benchmark runs the development defaults.
os.environ["ADREMIX_ENV"] = "dev"

from sqlalchemy import insert  # noqa: E402

from adremix.db import engine_for, session_scope  # noqa: E402
from adremix.models import Generation, User  # noqa: E402
from adremix.services.generation import PLACEMENTS, STYLES  # noqa: E402
from adremix.services.library import HistoryFilter, query_history  # noqa: E402
from tests.app_server import migrate  # noqa: E402
from tests.local_postgres import LocalPostgres  # noqa: E402

ROWS = 10_000
RUNS = 50
WORDS = [
    "diwali",
    "holi",
    "sale",
    "summer",
    "monsoon",
    "gold",
    "watch",
    "sneaker",
    "bottle",
    "lamp",
    "festive",
    "offer",
]
QUERIES = {
    "page1": HistoryFilter(),
    "deep_page": HistoryFilter(page=400),  # rows 9,577-9,600 of 10,000
    "filtered_search": HistoryFilter(
        template="festive", placement="square", status="succeeded", search="diwali offer"
    ),
}


def seed(url: str) -> int:
    rng = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with session_scope(engine_for(url)) as session:
        user = User(email="busy@example.com", name="Busy")
        other = User(email="other@example.com", name="Other")
        session.add_all([user, other])
        session.flush()
        assert user.id is not None and other.id is not None
        rows = [
            {
                # 10,000 rows for the user, with another user's 1,000 mixed in.
                "user_id": other.id if n % 11 == 10 else user.id,
                "client_request_id": f"b{n}",
                "status": rng.choice(["succeeded"] * 8 + ["partial", "failed"]),
                "instructions": " ".join(rng.sample(WORDS, 4)) + f" variant {n}",
                "template": rng.choice(list(STYLES)),
                "placement": rng.choice(list(PLACEMENTS)),
                "quality": "medium",
                "variations": 1,
                "options": {},
                "source_image_hash": "0" * 64,
                "output_hashes": [],
                "provider": "offline",
                "model": "offline-v1",
                "cache_key": f"k{n}",
                "credits_reserved": 1,
                "credits_spent": 1,
                "is_favourite": n % 17 == 0,
                "created_at": start + timedelta(minutes=n),
            }
            for n in range(ROWS + ROWS // 10)
        ]
        for chunk in range(0, len(rows), 2000):
            session.execute(insert(Generation), rows[chunk : chunk + 2000])
        return user.id


def measure(url: str) -> dict[str, float]:
    user_id = seed(url)
    engine = engine_for(url)
    figures = {}
    for name, filters in QUERIES.items():
        timings = []
        for _ in range(RUNS):
            started = time.perf_counter()
            with session_scope(engine) as session:
                page = query_history(session=session, user_id=user_id, filters=filters)
            timings.append((time.perf_counter() - started) * 1000)
        assert page.items, name
        timings.sort()
        p50, p95 = statistics.median(timings), timings[int(RUNS * 0.95) - 1]
        print(f"  {name:<16} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms   ({page.total} matches)")
        figures[f"{name}_p50_ms"] = round(p50, 2)
        figures[f"{name}_p95_ms"] = round(p95, 2)
    return figures


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/history.db"
        migrate(url)
        print("SQLite")
        sqlite = measure(url)
    with LocalPostgres() as postgres:
        url = postgres.start()
        migrate(url)
        print("PostgreSQL")
        pg = measure(url)
    print(json.dumps({"sqlite": sqlite, "postgres": pg}))


if __name__ == "__main__":
    main()
