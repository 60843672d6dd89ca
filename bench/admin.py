"""Admin console benchmark: each console query on 100,000 users, 1,000,000 ledger entries
and 200,000 payments, against a bare indexed select on the same data in the same run.

    .venv/bin/python bench/admin.py [--users 100000] [--ledger 1000000] [--payments 200000]
                                    [--samples 200] [--warm 1000] [--backends sqlite,postgres]

SQLite (a file) and PostgreSQL (a throwaway server on loopback, like the tests'), each
migrated to head and seeded (untimed) with users, their search terms and those terms'
prefixes, orders with one payment each (80% captured, with their purchase credits), and a
ledger of sign-up bonuses, purchases, generation spends and refunds whose balances add
up; then the Overview's daily figures are summed as the app's background task does
(`refresh_metrics`).

Timed, `samples` times each with varied arguments, after `warm` untimed runs of the same
kind (as a running server has compiled, prepared and planned its statements; the bare
select is warmed alike), the console's own service calls (the role check and
transaction included, as a page load makes them):
  user_search     `find_users` with a search (an e-mail or name prefix, or an id)
  users_filtered  `find_users` with filters: signed up between, has paid, balance range,
                  sorted by balance, pages 1-5
  user_detail     `user_detail` of a random user (profile, ledger, orders and payments,
                  generations, sessions, audit entries)
  overview        `overview` of the last 90 days (revenue, credits, generations, sign-ups)
  payments_page   `list_payments`, newest first, all or one status, pages 1-5
and the baseline:
  bare_select     one page (50 rows) of users read by an index range (`created_at`) in a
                  transaction of the app's own (`session_scope`, as every console query
                  runs in one): the least any console table page costs.

Prints p50/p95 of each, the ratio of each p95 to the bare select's, and ends with one JSON
line (`<backend>_<query>_p95_ms`, `<backend>_bare_select_p95_ms`, ratios, `targets_met`).
Targets (issue 12): every console query's p95 <= 50 ms and <= 5x the bare select's.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Unset ADREMIX_ENV means production; a benchmark runs the development defaults.
os.environ["ADREMIX_ENV"] = "dev"

import psycopg  # noqa: E402
from sqlalchemy import Engine, Table, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from adremix.db import engine_for, session_scope  # noqa: E402
from adremix.enums import CreditKind, OrderStatus, PaymentStatus, Role  # noqa: E402
from adremix.models import (  # noqa: E402
    CreditTransaction,
    Payment,
    PaymentOrder,
    User,
    UserSearchPrefix,
    UserSearchTerm,
    signup_period,
)
from adremix.services import admin  # noqa: E402
from adremix.services.accounts import search_prefixes, search_terms  # noqa: E402
from adremix.settings import get_settings  # noqa: E402
from tests.app_server import migrate  # noqa: E402
from tests.local_postgres import LocalPostgres  # noqa: E402

P95_TARGET_MS = 50.0
RATIO_TARGET = 5.0
QUERIES = ("user_search", "users_filtered", "user_detail", "overview", "payments_page")
FIRST = ["aarav", "maya", "ishaan", "diya", "kabir", "anika", "rohan", "sara", "vivaan", "tara"]
LAST = ["rao", "sharma", "iyer", "khan", "das", "mehta", "nair", "gupta", "singh", "bose"]
DOMAINS = ["gmail.com", "outlook.com", "yahoo.co.in", "shop.in", "brand.example", "agency.in"]
PACKS = [("starter", 10, 19_900), ("growth", 50, 79_900), ("pro", 200, 249_900)]
SIGNUP_BONUS = 3
SPAN_DAYS = 730
CHUNK = 10_000


def table(model: Any) -> Table:
    return model.__table__


# --- seeding ---------------------------------------------------------------------------------


class Loader:
    """Bulk rows into one database: SQLAlchemy's executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = engine_for(url)
        self.postgres = url.startswith("postgresql")

    def load(self, target: Table, rows: Iterable[dict[str, Any]]) -> int:
        columns = [c.name for c in target.columns]
        count = 0
        if self.postgres:
            dsn = make_url(self.url).set(drivername="postgresql")
            with psycopg.connect(dsn.render_as_string(hide_password=False)) as connection:
                names = ", ".join(f'"{c}"' for c in columns)
                with connection.cursor().copy(f'COPY "{target.name}" ({names}) FROM STDIN') as cp:
                    for row in rows:
                        cp.write_row([_pg(row.get(c)) for c in columns])
                        count += 1
                if "id" in columns:
                    connection.execute(
                        f"SELECT setval(pg_get_serial_sequence('\"{target.name}\"', 'id'), "
                        f'(SELECT max(id) FROM "{target.name}"))'
                    )
            return count
        with self.engine.begin() as connection:
            for chunk in _chunks(rows):
                connection.execute(insert(target), chunk)
                count += len(chunk)
        return count


def _pg(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict | list) else value


def _chunks(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class Seed:
    """The data set, made deterministically (one seed), user by user."""

    def __init__(self, users: int, ledger: int, payments: int) -> None:
        self.rng = random.Random(12)
        self.users = users
        self.payments = payments
        self.end = datetime(2026, 3, 31, 18, 0, tzinfo=UTC)
        self.start = self.end - timedelta(days=SPAN_DAYS)
        step = (self.end - self.start) / users
        self.joined = [self.start + step * n for n in range(users)]
        # Orders: a third of the users ever pay; some pay often.
        payers = self.rng.sample(range(1, users + 1), users // 3)
        weights = [self.rng.paretovariate(1.6) for _ in payers]
        buyers = self.rng.choices(payers, weights=weights, k=payments)
        self.orders: dict[int, list[tuple[int, str, int, int, datetime, bool]]] = {}
        for n, user_id in enumerate(buyers, start=1):
            pack, credits, paise = PACKS[self.rng.randrange(len(PACKS))]
            joined = self.joined[user_id - 1]
            when = joined + (self.end - joined) * self.rng.random()
            captured = self.rng.random() < 0.8
            self.orders.setdefault(user_id, []).append((n, pack, credits, paise, when, captured))
        captured_total = sum(o[5] for orders in self.orders.values() for o in orders)
        # Spends fill the ledger up to its target, shared by what each user could spend.
        spends_total = max(0, ledger - users - captured_total)
        inflow = [
            SIGNUP_BONUS + sum(o[2] for o in self.orders.get(u, []) if o[5])
            for u in range(1, users + 1)
        ]
        total_inflow = sum(inflow)
        self.spends = [min(c, round(spends_total * c / total_inflow)) for c in inflow]
        self.balances: dict[int, int] = {}

    def user_rows(self) -> Iterator[dict[str, Any]]:
        for user_id in range(1, self.users + 1):
            first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
            joined = self.joined[user_id - 1]
            role = Role.ADMIN if user_id == 1 else (Role.SUPPORT if user_id % 20_000 == 0 else None)
            yield {
                "id": user_id,
                "email": f"{first}.{last}{user_id}@{self.rng.choice(DOMAINS)}",
                "name": f"{first.title()} {last.title()}",
                "avatar_url": "",
                "oidc_subject": f"sub-{user_id}",
                "credit_balance": self.balances[user_id],
                # What their captured payments came to, as the capture's transaction keeps it.
                "paid_paise": (paid := sum(o[3] for o in self.orders.get(user_id, []) if o[5])),
                "has_paid": paid > 0,
                "role": role,
                "suspended_at": joined + timedelta(days=3) if user_id % 200 == 7 else None,
                "preferences": {},
                "created_at": joined,
                "signup_period": signup_period(joined),  # as the app sets it with created_at
                "last_login_at": joined + (self.end - joined) * self.rng.random(),
                "deleted_at": None,
            }

    def ledger_rows(self) -> Iterator[dict[str, Any]]:
        """Each user's movements in time order; a spend waits for credits to spend."""
        entry = 0
        for user_id in range(1, self.users + 1):
            joined = self.joined[user_id - 1]
            inflows = [(joined, CreditKind.SIGNUP_BONUS, SIGNUP_BONUS, f"signup:{user_id}")]
            inflows += [
                (when, CreditKind.PURCHASE, credits, f"order:{n}")
                for n, _, credits, _, when, captured in self.orders.get(user_id, [])
                if captured
            ]
            inflows.sort()
            spend_times = sorted(
                joined + (self.end - joined) * self.rng.random()
                for _ in range(self.spends[user_id - 1])
            )
            balance, i = 0, 0
            for when, kind, amount, reference in [*inflows, (self.end, None, 0, "")]:
                # Spends due before this inflow, while there is something to spend.
                while i < len(spend_times) and spend_times[i] < when and balance > 0:
                    entry += 1
                    balance -= 1
                    refund = entry % 40 == 0
                    yield self._entry(
                        entry, user_id, -1, CreditKind.GENERATION, spend_times[i], balance
                    )
                    if refund:  # a failed image, given back
                        entry += 1
                        balance += 1
                        yield self._entry(
                            entry,
                            user_id,
                            1,
                            CreditKind.GENERATION_REFUND,
                            spend_times[i] + timedelta(seconds=30),
                            balance,
                        )
                    i += 1
                if kind is None:
                    break
                entry += 1
                balance += amount
                yield self._entry(entry, user_id, amount, kind, when, balance, reference)
            self.balances[user_id] = balance

    @staticmethod
    def _entry(
        entry: int,
        user_id: int,
        amount: int,
        kind: str,
        when: datetime,
        balance: int,
        reference: str | None = None,
    ) -> dict[str, Any]:
        return {
            "id": entry,
            "user_id": user_id,
            "amount": amount,
            "kind": kind,
            "reference": reference,
            "idempotency_key": f"bench-{entry}",
            "balance_after": balance,
            "reason": None,
            "created_at": when,
        }

    def order_rows(self) -> Iterator[dict[str, Any]]:
        for user_id, orders in self.orders.items():
            for n, pack, credits, paise, when, captured in orders:
                status = (
                    OrderStatus.PAID
                    if captured
                    else self.rng.choice([OrderStatus.FAILED, OrderStatus.CREATED])
                )
                yield {
                    "id": n,
                    "receipt_number": f"AR-B{n:07d}",
                    "user_id": user_id,
                    "kind": "pack",
                    "package_code": pack,
                    "subscription_id": None,
                    "credits": credits,
                    "amount_paise": paise,
                    "tax_paise": paise - paise * 100 // 118,
                    "currency": "INR",
                    "status": status,
                    "provider": "razorpay",
                    "provider_order_id": f"order_bench{n:08d}",
                    "open_key": None,
                    "failure_reason": None if captured else "Payment failed",
                    "created_at": when,
                    "paid_at": when + timedelta(seconds=40) if captured else None,
                    "refunded_at": None,
                }

    def payment_rows(self) -> Iterator[dict[str, Any]]:
        for orders in self.orders.values():
            for n, _, credits, paise, when, captured in orders:
                yield {
                    "id": n,
                    "provider_payment_id": f"pay_bench{n:08d}",
                    "order_id": n,
                    "amount_paise": paise,
                    "currency": "INR",
                    "status": PaymentStatus.CAPTURED if captured else PaymentStatus.FAILED,
                    "captured": captured,
                    "duplicate": False,
                    "credits_granted": credits if captured else 0,
                    "refunded_paise": 0,
                    "credits_clawed": 0,
                    "clawback_shortfall": 0,
                    "error_description": None if captured else "Card declined",
                    "created_at": when + timedelta(seconds=30),
                    "updated_at": when + timedelta(seconds=40),
                }

    def search_rows(self, emails: dict[int, tuple[str, str]]) -> Iterator[dict[str, Any]]:
        for user_id, (email, name) in emails.items():
            for term in search_terms(email=email, name=name):
                yield {"term": term, "user_id": user_id}

    def prefix_rows(self, users: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """What `reindex_user` keeps beside the terms (UserSearchPrefix)."""
        for user in users:
            terms = search_terms(email=user["email"], name=user["name"])
            for prefix in search_prefixes(terms):
                yield {"prefix": prefix, "created_at": user["created_at"], "user_id": user["id"]}


def seed(url: str, users: int, ledger: int, payments: int) -> dict[str, Any]:
    started = time.perf_counter()
    data = Seed(users, ledger, payments)
    loader = Loader(url)
    # The ledger first: it settles each user's balance, which their row carries.
    ledger_rows = list(data.ledger_rows())
    user_rows = list(data.user_rows())
    counts = {"users": loader.load(table(User), user_rows)}
    emails = {row["id"]: (row["email"], row["name"]) for row in user_rows}
    counts["search_terms"] = loader.load(table(UserSearchTerm), data.search_rows(emails))
    counts["search_prefixes"] = loader.load(table(UserSearchPrefix), data.prefix_rows(user_rows))
    counts["ledger"] = loader.load(table(CreditTransaction), ledger_rows)
    del ledger_rows
    counts["orders"] = loader.load(table(PaymentOrder), data.order_rows())
    counts["payments"] = loader.load(table(Payment), data.payment_rows())
    if loader.postgres:
        # As a database in use is: its statistics gathered and its tables vacuumed, as
        # autovacuum does after inserts. Left to autovacuum, whether it had reached a table
        # before the timing (and so whether index-only scans read the heap) varied by run.
        with loader.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM (ANALYZE)"))
    else:
        with loader.engine.begin() as connection:
            connection.execute(text("ANALYZE"))  # as a database in use has its statistics
    folded = admin.refresh_metrics()
    print(
        f"  seeded {counts} in {time.perf_counter() - started:.0f} s; "
        f"metrics summed from {folded} rows"
    )
    return {"counts": counts, "emails": emails, "end": data.end}


# --- timing ------------------------------------------------------------------------------


def timed(call: Callable[[], Any], samples: int, warm: int) -> tuple[float, float]:
    # A running server has compiled its statements and PostgreSQL has planned them once for
    # each connection (psycopg prepares a text on its 5th run, the server keeps a generic
    # plan after 5 more); every query, the bare select too, runs `warm` times untimed first.
    for _ in range(max(1, warm)):
        call()
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[max(0, round(samples * 0.95) - 1)]


def workloads(engine: Engine, seeded: dict[str, Any]) -> dict[str, Callable[[], Any]]:
    rng = random.Random(5)
    emails: dict[int, tuple[str, str]] = seeded["emails"]
    users = len(emails)
    actor = 1
    last_day: date = seeded["end"].date()
    first_day = last_day - timedelta(days=SPAN_DAYS)

    def search() -> Any:
        user_id = rng.randrange(1, users + 1)
        email, name = emails[user_id]
        q = rng.choice([email[: rng.randrange(4, len(email))], name.split()[1], f"#{user_id}"])
        found = admin.find_users(actor_id=actor, filters=admin.UserFilters.from_query({"q": q}))
        assert found.rows, q

    def filtered() -> Any:
        start = first_day + timedelta(days=rng.randrange(0, SPAN_DAYS - 120))
        query = {
            "from": start.isoformat(),
            "to": (start + timedelta(days=rng.randrange(30, 120))).isoformat(),
            "paid": rng.choice(["yes", "no"]),
            "min": str(rng.randrange(0, 5)),
            "max": str(rng.randrange(50, 500)),
            "sort": rng.choice(["balance_desc", "joined_desc", "balance_asc"]),
            "page": str(rng.randrange(1, 6)),
        }
        admin.find_users(actor_id=actor, filters=admin.UserFilters.from_query(query))

    def detail() -> Any:
        admin.user_detail(actor_id=actor, user_id=rng.randrange(1, users + 1))

    def overview() -> Any:
        admin.overview(actor_id=actor, start=last_day - timedelta(days=89), end=last_day)

    def payments_page() -> Any:
        query = {"page": str(rng.randrange(1, 6))}
        if rng.random() < 0.5:
            query["status"] = rng.choice([OrderStatus.PAID, OrderStatus.FAILED])
        page = admin.list_payments(actor_id=actor, filters=admin.PaymentFilters.from_query(query))
        assert page.rows

    bare_page = text(
        'SELECT id, email, name, credit_balance, created_at FROM "user" '
        "WHERE created_at < :before ORDER BY created_at DESC, id DESC LIMIT 50"
    )

    def bare_select() -> Any:
        before = seeded["end"] - timedelta(days=rng.randrange(0, SPAN_DAYS))
        with session_scope(engine) as session:
            rows = session.execute(bare_page, {"before": before}).all()
        assert rows

    return {
        "user_search": search,
        "users_filtered": filtered,
        "user_detail": detail,
        "overview": overview,
        "payments_page": payments_page,
        "bare_select": bare_select,
    }


def bench(name: str, url: str, args: argparse.Namespace) -> dict[str, float]:
    print(f"{name}:")
    migrate(url)
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    seeded = seed(url, args.users, args.ledger, args.payments)
    runs = workloads(engine_for(url), seeded)
    figures: dict[str, float] = {}
    for query, call in runs.items():
        p50, p95 = timed(call, args.samples, args.warm)
        figures[f"{name}_{query}_p50_ms"] = round(p50, 2)
        figures[f"{name}_{query}_p95_ms"] = round(p95, 2)
    bare = figures[f"{name}_bare_select_p95_ms"]
    for query in (*QUERIES, "bare_select"):
        p50, p95 = figures[f"{name}_{query}_p50_ms"], figures[f"{name}_{query}_p95_ms"]
        ratio = p95 / bare if bare else float("inf")
        if query != "bare_select":
            figures[f"{name}_{query}_vs_bare"] = round(ratio, 2)
        print(f"  {query:<15} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms   p95 / bare {ratio:5.2f}")
    return figures


def shortfalls(figures: dict[str, float], backends: list[str]) -> list[str]:
    missed = []
    for name in backends:
        for query in QUERIES:
            p95 = figures[f"{name}_{query}_p95_ms"]
            ratio = figures[f"{name}_{query}_vs_bare"]
            if p95 > P95_TARGET_MS:
                missed.append(f"{name} {query} p95 {p95} ms > {P95_TARGET_MS} ms")
            if ratio > RATIO_TARGET:
                missed.append(f"{name} {query} {ratio}x the bare select > {RATIO_TARGET}x")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--ledger", type=int, default=1_000_000)
    parser.add_argument("--payments", type=int, default=200_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument(
        "--warm", type=int, default=1_000, help="untimed runs of each query (the bare one too)"
    )
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    figures: dict[str, Any] = {
        "users": args.users,
        "ledger_entries": args.ledger,
        "payments": args.payments,
        "samples": args.samples,
        "warm": args.warm,
        "load_1m": round(os.getloadavg()[0], 2),
    }
    with tempfile.TemporaryDirectory() as scratch:
        if "sqlite" in backends:
            figures |= bench("sqlite", f"sqlite:///{Path(scratch) / 'admin.db'}", args)
        if "postgres" in backends:
            with LocalPostgres() as postgres:
                figures |= bench("postgres", postgres.start(), args)
    missed = shortfalls(figures, backends)
    print(
        "targets: every console query p95 <= 50 ms and <= 5x the bare select: "
        + ("met" if not missed else "MISSED: " + "; ".join(missed))
    )
    figures["targets_met"] = not missed
    figures["load_1m_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(figures))
    return 0 if not missed else 1


if __name__ == "__main__":
    sys.exit(main())
