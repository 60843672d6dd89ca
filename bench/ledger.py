"""Ledger benchmark: spends per second at 1, 8 and 32 workers on SQLite and PostgreSQL,
and the time of `ledger verify` over 100,000 entries.

    .venv/bin/python bench/ledger.py

Starts its own throwaway PostgreSQL on loopback (like the tests). Ends with one JSON line.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402
from sqlmodel import select  # noqa: E402

from adremix.db import engine_for, session_scope  # noqa: E402
from adremix.models import CreditTransaction, User  # noqa: E402
from adremix.services import credits as ledger  # noqa: E402
from tests.app_server import migrate  # noqa: E402
from tests.ledger_race import spend_concurrently  # noqa: E402
from tests.local_postgres import LocalPostgres  # noqa: E402

WORKERS = (1, 8, 32)
SPENDS = 1000
VERIFY_ENTRIES = 100_000


def new_funded_user(url: str, email: str, credits: int) -> int:
    with session_scope(engine_for(url)) as session:
        user = User(email=email, name="Bench")
        session.add(user)
        session.flush()
        assert user.id is not None
        ledger.grant(
            session=session,
            user_id=user.id,
            amount=credits,
            kind="purchase",
            idempotency_key=f"fund:{email}",
        )
        return user.id


def spends_per_second(url: str) -> dict[str, float]:
    results = {}
    for workers in WORKERS:
        user_id = new_funded_user(url, f"w{workers}@bench.example", SPENDS)
        started = time.perf_counter()
        succeeded, refused = spend_concurrently(
            engine_for(url), user_id=user_id, attempts=SPENDS, workers=workers, prefix=f"w{workers}"
        )
        elapsed = time.perf_counter() - started
        assert (succeeded, refused) == (SPENDS, 0)
        results[str(workers)] = round(SPENDS / elapsed, 1)
        print(f"  {workers:>2} workers: {results[str(workers)]:>9.1f} spends/s")
    return results


def verify_time(url: str) -> float:
    """Seed 100,000 entries over 1,000 users (bulk insert), then time find_mismatches."""
    engine = engine_for(url)
    users, per_user = 1000, VERIFY_ENTRIES // 1000
    with session_scope(engine) as session:
        session.execute(
            insert(User),
            [
                {
                    "email": f"v{i}@bench.example",
                    "name": "V",
                    "credit_balance": per_user,
                    "preferences": {},
                }
                for i in range(users)
            ],
        )
        ids = session.exec(select(User.id).where(User.email.like("v%@bench.example"))).all()
        rows = [
            {
                "user_id": uid,
                "amount": 1,
                "kind": "purchase",
                "idempotency_key": f"v:{uid}:{n}",
                "balance_after": n + 1,
            }
            for uid in ids
            for n in range(per_user)
        ]
        for start in range(0, len(rows), 10_000):
            session.execute(insert(CreditTransaction), rows[start : start + 10_000])
    started = time.perf_counter()
    with session_scope(engine) as session:
        mismatches = ledger.find_mismatches(session=session)
    elapsed = time.perf_counter() - started
    assert mismatches == [], mismatches[:3]
    return round(elapsed, 3)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite:///{tmp}/bench.db"
        migrate(sqlite_url)
        print("SQLite")
        sqlite = spends_per_second(sqlite_url)
        verify_sqlite = verify_time(sqlite_url)
        print(f"  ledger verify over {VERIFY_ENTRIES:,} entries: {verify_sqlite:.3f} s")
    with LocalPostgres() as postgres:
        pg_url = postgres.start()
        migrate(pg_url)
        print("PostgreSQL")
        pg = spends_per_second(pg_url)
        verify_pg = verify_time(pg_url)
        print(f"  ledger verify over {VERIFY_ENTRIES:,} entries: {verify_pg:.3f} s")
    print(
        json.dumps(
            {
                "sqlite_spends_per_s": sqlite,
                "postgres_spends_per_s": pg,
                "verify_100k_s": verify_sqlite,
                "verify_100k_postgres_s": verify_pg,
            }
        )
    )


if __name__ == "__main__":
    main()
