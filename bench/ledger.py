"""Ledger benchmark: the app's spend against the database running the very same SQL.

    .venv/bin/python bench/ledger.py [--seconds 5] [--rounds 2]

PostgreSQL (a throwaway server on loopback, like the tests') with 1,000 funded users, at 1,
8 and 32 clients, for one hot user and for users spread over all 1,000, interleaved:
  (a) the app: `ledger.spend_credits` (a transaction of its own), on worker processes (one
      per core, threads within each: threads of one process would queue on one GIL);
  (b) `pgbench -M prepared -f` with a script of exactly the SQL the app sent, captured from
      the app's own engine while it spends, between BEGIN and COMMIT as the app sends it;
  (c) `pgbench -b simple-update`, PostgreSQL's stock write transaction;
  (d) for users spread, bare psycopg sending the same statement on the same worker layout:
      what the Python side costs without SQLAlchemy, for reading the gap between (a) and (b).
SQLite the same way, against bare `sqlite3` sending the app's captured statements with the
app's connection settings, on the same worker layout.

Prints a table and ends with one JSON line: `app_vs_pgbench_same_sql` and
`app_vs_sqlite3_same_sql` per client count and user spread. Targets (issue 16), at 8 and 32
clients: >= 0.5 of the same SQL with users spread, >= 0.3 for one hot user.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Unset ADREMIX_ENV means production; a benchmark runs the development defaults.
os.environ["ADREMIX_ENV"] = "dev"

import psycopg  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from adremix.db import engine_for, session_scope  # noqa: E402
from adremix.models import CreditTransaction, User  # noqa: E402
from adremix.services import credits as ledger  # noqa: E402
from tests.app_server import migrate  # noqa: E402
from tests.driver_calls import DriverCall, recording_engine, statements  # noqa: E402
from tests.local_postgres import ROLE, LocalPostgres, server_binaries  # noqa: E402

CLIENTS = (1, 8, 32)
SPREADS = ("spread", "hot")
USERS = 1000
FUNDS = 1_000_000_000  # no user runs dry during a run
WARMUP_SPENDS = 10  # per client, untimed: connections open, statements prepared
CAPTURE_KEY = "bench:capture"
REFERENCE, REASON = "bench", "benchmark spend"  # pgbench cannot bind NULL: the app sends these
TARGETS = {"spread": 0.5, "hot": 0.3}
TARGET_CLIENTS = ("8", "32")

Spender = Callable[[int, str], None]  # (user id, idempotency key): one spend, committed
SpenderFactory = Callable[[], Spender]  # called once per client thread
_runs = itertools.count()


@dataclass(frozen=True)
class Captured:
    """One statement as the app handed it to the driver."""

    sql: str
    positions: tuple[str, ...]  # parameter names in order, for positional drivers
    parameters: Any


def layout(clients: int) -> tuple[int, int]:
    """(processes, threads per process) of the app side: a process per core, so the Python
    half of the spends runs on every core; more processes than cores only add switching."""
    processes = min(clients, os.cpu_count() or 1)
    return processes, clients // processes


# --- setting up -------------------------------------------------------------------------


def seed_users(url: str) -> list[int]:
    """1,000 users, each funded through the ledger (so `ledger verify` holds throughout)."""
    with session_scope(engine_for(url)) as session:
        users = [User(email=f"u{i}@bench.example", name="Bench") for i in range(USERS)]
        session.add_all(users)
        session.flush()
        ids = sorted(user.id for user in users if user.id is not None)
        for user_id in ids:
            ledger.grant(
                session=session,
                user_id=user_id,
                amount=FUNDS,
                kind="purchase",
                idempotency_key=f"fund:{user_id}",
            )
    assert ids == list(range(ids[0], ids[0] + USERS)), "pgbench picks ids from a range"
    return ids


def capture_spend(url: str, user_id: int) -> list[Captured]:
    """The statements one `ledger.spend_credits` hands the driver (transaction control
    aside), recorded by the driver's own cursors."""
    engine, calls = recording_engine(url)
    with engine.connect():  # the connection's own set-up (SQLite's PRAGMAs) first
        pass
    calls.clear()
    try:
        entry = ledger.spend_credits(
            engine=engine,
            user_id=user_id,
            amount=1,
            idempotency_key=CAPTURE_KEY,
            reference=REFERENCE,
            reason=REASON,
        )
    finally:
        engine.dispose()
    known = {"user_id": user_id, "idempotency_key": CAPTURE_KEY, "balance": entry.balance_after}
    return [_captured(call, known) for call in statements(calls)]


def _captured(call: DriverCall, known: dict[str, Any]) -> Captured:
    """Name a positional driver's parameters: the ones that vary per spend by the values
    this spend sent (`known`), the constants by position."""
    if isinstance(call.parameters, dict):
        return Captured(call.sql, (), call.parameters)
    names = tuple(
        next((name for name, v in known.items() if type(v) is type(value) and v == value), f"p{i}")
        for i, value in enumerate(call.parameters)
    )
    return Captured(call.sql, names, tuple(call.parameters))


# --- clients: worker processes with threads ----------------------------------------------


def _client(spend: Spender, ids: list[int], hot: bool, seconds: float, tag: str, start: Any) -> int:
    rng = random.Random(tag)

    def user() -> int:
        return ids[0] if hot else rng.choice(ids)

    for n in range(WARMUP_SPENDS):
        spend(user(), f"{tag}:w{n}")
    start.wait()
    deadline = time.perf_counter() + seconds
    done = 0
    while time.perf_counter() < deadline:
        spend(user(), f"{tag}:{done}")
        done += 1
    return done


def run_clients(
    setup: Callable[[], SpenderFactory], clients: int, ids: list[int], hot: bool, seconds: float
) -> float:
    """Spends per second of `clients` concurrent clients, timed from a common start after
    their warm-up. `setup` runs once in each forked worker process."""
    processes, threads = layout(clients)
    context = multiprocessing.get_context("fork")
    start = context.Barrier(processes * threads)
    counts = context.Queue()
    run = next(_runs)

    def worker(index: int) -> None:
        factory = setup()

        def client(thread: int) -> int:
            tag = f"bench:{run}:{index}:{thread}"
            return _client(factory(), ids, hot, seconds, tag, start)

        with ThreadPoolExecutor(max_workers=threads) as pool:
            counts.put(sum(pool.map(client, range(threads))))

    workers = [context.Process(target=worker, args=(i,)) for i in range(processes)]
    for process in workers:
        process.start()
    total = sum(counts.get(timeout=seconds + 600) for _ in workers)
    for process in workers:
        process.join()
        if process.exitcode != 0:
            raise RuntimeError(f"a worker process failed (exit code {process.exitcode})")
    return total / seconds


def app_spenders(url: str) -> SpenderFactory:
    """In a forked worker: the app's engine, rid of the parent's pooled connections."""
    engine = engine_for(url)
    engine.dispose(close=False)

    def spend(user_id: int, key: str) -> None:
        ledger.spend_credits(
            engine=engine,
            user_id=user_id,
            amount=1,
            idempotency_key=key,
            reference=REFERENCE,
            reason=REASON,
        )

    return lambda: spend


# --- PostgreSQL: pgbench ------------------------------------------------------------------


class Pgbench:
    def __init__(self, postgres: LocalPostgres) -> None:
        self.binary = server_binaries() / "pgbench"
        if not self.binary.exists():
            raise RuntimeError(
                f"{self.binary} missing: scripts/ensure-system-packages.sh postgresql"
            )
        self.postgres = postgres

    def run(self, *args: str) -> str:
        server = ("-h", "127.0.0.1", "-p", str(self.postgres.port), "-U", ROLE)
        result = subprocess.run(
            [str(self.binary), *server, *args],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"pgbench failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    def tps(self, *args: str, clients: int, seconds: float) -> float:
        threads = min(clients, os.cpu_count() or 1)
        timing = ("-c", str(clients), "-j", str(threads), "-T", str(round(seconds)))
        out = self.run("-n", "-M", "prepared", *timing, *args)
        match = re.search(r"^tps = ([\d.]+)", out, re.MULTILINE)
        if match is None:
            raise RuntimeError(f"no tps in pgbench output:\n{out}")
        return float(match.group(1))


def pgbench_script(statement: Captured, ids: list[int], hot: bool) -> tuple[str, list[str]]:
    """The app's statement as a pgbench script (`%(name)s` becomes `:name`) between BEGIN and
    COMMIT, and the -D options that give its other parameters the values the app sent."""
    names = set(re.findall(r"%\((\w+)\)s", statement.sql))
    user = f"{ids[0]}" if hot else f"random({ids[0]}, {ids[-1]})"
    varying = {
        "user_id": f"\\set user_id {user}",
        "idempotency_key": "\\set idempotency_key random(1, 9000000000000000000)",
    }
    assert set(varying) <= names, names
    constants = sorted(names - set(varying))
    assert all(statement.parameters[name] is not None for name in constants)
    sql = re.sub(r"%\((\w+)\)s", r":\1", statement.sql).replace("%%", "%")
    script = "\n".join([*varying.values(), "BEGIN;", f"{sql};", "COMMIT;", ""])
    return script, [f"-D{name}={statement.parameters[name]}" for name in constants]


def psycopg_spenders(url: str, statement: Captured) -> SpenderFactory:
    """Bare psycopg (no SQLAlchemy) sending the app's captured statement, one connection
    per client: BEGIN (implicit), the statement, COMMIT, as the app does."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)

    def connect() -> Spender:
        connection = psycopg.connect(dsn)

        def spend(user_id: int, key: str) -> None:
            values = statement.parameters | {"user_id": user_id, "idempotency_key": key}
            with connection.cursor() as cursor:
                cursor.execute(statement.sql, values)
                cursor.fetchone()
            connection.commit()

        return spend

    return connect


# --- SQLite: bare sqlite3 -----------------------------------------------------------------


def sqlite3_spenders(path: str, statements: list[Captured]) -> SpenderFactory:
    """Bare `sqlite3` sending the app's two captured statements, with the app's settings
    (WAL, foreign keys, busy timeout, BEGIN IMMEDIATE)."""
    entry, balance = statements
    sent = dict(zip(entry.positions, entry.parameters, strict=True))

    def connect() -> Spender:
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=30000"):
            connection.execute(f"PRAGMA {pragma}")

        def spend(user_id: int, key: str) -> None:
            values = sent | {"user_id": user_id, "idempotency_key": key}
            connection.execute("BEGIN IMMEDIATE")
            try:
                cursor = connection.execute(entry.sql, [values[n] for n in entry.positions])
                row = cursor.fetchone()
                values["balance"] = row[[c[0] for c in cursor.description].index("balance_after")]
                connection.execute(balance.sql, [values[n] for n in balance.positions])
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise

        return spend

    return connect


# --- measuring ----------------------------------------------------------------------------


def interleaved(runs: dict[str, Callable[[], float]], rounds: int) -> dict[str, float]:
    """Every measurement `rounds` times, one after the other in turn, averaged: load from
    elsewhere on the machine then falls on all of them alike."""
    totals = dict.fromkeys(runs, 0.0)
    for _ in range(rounds):
        for name, run in runs.items():
            totals[name] += run()
    return {name: round(total / rounds, 1) for name, total in totals.items()}


def verify(url: str) -> dict[str, float]:
    """`ledger verify` over everything the run wrote (it must find nothing)."""
    with session_scope(engine_for(url)) as session:
        entries = session.execute(select(func.count()).select_from(CreditTransaction)).scalar()
        started = time.perf_counter()
        mismatches = ledger.find_mismatches(session=session)
        elapsed = time.perf_counter() - started
    assert mismatches == [], mismatches[:3]
    return {"entries": entries or 0, "seconds": round(elapsed, 3)}


def prepare(url: str, statements_per_spend: int) -> tuple[list[int], list[Captured]]:
    """Migrate, seed, and capture what one spend sends; then drop the parent's pooled
    connections, which forked workers must not share."""
    migrate(url)
    ids = seed_users(url)
    captured = capture_spend(url, ids[0])
    assert len(captured) == statements_per_spend, f"a spend sent {len(captured)}"
    engine_for(url).dispose()
    return ids, captured


def compare(
    url: str,
    ids: list[int],
    same_sql: Callable[[int, str], float],
    more: Callable[[int], dict[str, Callable[[], float]]],
    seconds: float,
    rounds: int,
) -> dict[str, dict[str, float]]:
    """Per client count: the app and `same_sql(clients, spread)` for each user spread, plus
    the `more(clients)` measurements, interleaved."""
    results = {}
    for clients in CLIENTS:
        runs: dict[str, Callable[[], float]] = {}
        for spread in SPREADS:
            runs[f"app_{spread}"] = lambda c=clients, h=spread == "hot": run_clients(
                lambda: app_spenders(url), c, ids, h, seconds
            )
            runs[f"same_sql_{spread}"] = lambda c=clients, s=spread: same_sql(c, s)
        results[str(clients)] = interleaved(runs | more(clients), rounds)
    return results


def bench_postgres(seconds: float, rounds: int) -> dict[str, Any]:
    with LocalPostgres() as postgres, tempfile.TemporaryDirectory() as tmp:
        url = postgres.start()
        ids, (statement,) = prepare(url, 1)
        pgbench = Pgbench(postgres)
        postgres.create_database("pgbench")
        pgbench.run("-i", "-q", "-s", "1", "pgbench")
        scripts = {}
        for spread in SPREADS:
            script, defines = pgbench_script(statement, ids, spread == "hot")
            path = Path(tmp) / f"spend-{spread}.sql"
            path.write_text(script)
            scripts[spread] = (*defines, "-f", str(path), url.rsplit("/", 1)[1])
        print(f"PostgreSQL {server_binaries().parent.name}; the pgbench script (users spread):")
        print("  " + (Path(tmp) / "spend-spread.sql").read_text().replace("\n", "\n  ").rstrip())

        def more(clients: int) -> dict[str, Callable[[], float]]:
            return {
                "bare_psycopg_spread": lambda: run_clients(
                    lambda: psycopg_spenders(url, statement), clients, ids, False, seconds
                ),
                "simple_update": lambda: pgbench.tps(
                    "-b", "simple-update", "pgbench", clients=clients, seconds=seconds
                ),
            }

        results = compare(
            url,
            ids,
            lambda clients, spread: pgbench.tps(*scripts[spread], clients=clients, seconds=seconds),
            more,
            seconds,
            rounds,
        )
        return {"spends_per_s": results, "verify": verify(url)}


def bench_sqlite(seconds: float, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/bench.db"
        url = f"sqlite:///{path}"
        ids, statements = prepare(url, 2)
        results = compare(
            url,
            ids,
            lambda clients, spread: run_clients(
                lambda: sqlite3_spenders(path, statements), clients, ids, spread == "hot", seconds
            ),
            lambda _clients: {},
            seconds,
            rounds,
        )
        return {"spends_per_s": results, "verify": verify(url)}


# --- reporting ----------------------------------------------------------------------------


def ratios(results: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    return {
        clients: {
            spread: round(row[f"app_{spread}"] / row[f"same_sql_{spread}"], 3) for spread in SPREADS
        }
        for clients, row in results.items()
    }


def shortfalls(name: str, ratio: dict[str, dict[str, float]]) -> list[str]:
    return [
        f"{name} {clients} clients {spread}: {ratio[clients][spread]} < {TARGETS[spread]}"
        for clients in TARGET_CLIENTS
        for spread in SPREADS
        if ratio[clients][spread] < TARGETS[spread]
    ]


def print_table(title: str, baseline: str, results: dict[str, Any], extra: bool) -> None:
    print(f"\n{title}")
    header = f"{'clients':>7}  {'users':<6} {'app/s':>8} {baseline:>18} {'ratio':>6} {'target':>6}"
    extras = f" {'simple-update/s':>16} {'app/it':>6} {'bare psycopg/s':>15} {'it/same':>7}"
    print(header + (extras if extra else ""))
    for clients, row in results["spends_per_s"].items():
        for spread in SPREADS:
            app, same = row[f"app_{spread}"], row[f"same_sql_{spread}"]
            target = f"{TARGETS[spread]:.1f}" if clients in TARGET_CLIENTS else "-"
            line = f"{clients:>7}  {spread:<6} {app:>8.0f} {same:>18.0f} {app / same:>6.2f}"
            line += f" {target:>6}"
            if extra:
                simple = row["simple_update"]
                line += f" {simple:>16.0f} {app / simple:>6.2f}"
                if spread == "spread":
                    bare = row["bare_psycopg_spread"]
                    line += f" {bare:>15.0f} {bare / same:>7.2f}"
            print(line)
    checked = results["verify"]
    print(f"ledger verify over {checked['entries']:,} entries: {checked['seconds']:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description="The ledger's spends against the same SQL.")
    parser.add_argument("--seconds", type=float, default=5.0, help="one measurement's length")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved repeats of each")
    args = parser.parse_args()
    workers = {str(c): "{} process(es) x {} thread(s)".format(*layout(c)) for c in CLIENTS}
    print(
        f"{USERS:,} users; {args.rounds} x {args.seconds:g} s per figure, interleaved.\n"
        "App side: ledger.spend_credits (its own transaction) on worker PROCESSES (threads of "
        "one process share one GIL): " + ", ".join(f"{c} clients = {w}" for c, w in workers.items())
    )
    postgres = bench_postgres(args.seconds, args.rounds)
    print_table(
        "PostgreSQL: app vs pgbench -M prepared on the app's SQL",
        "pgbench same SQL/s",
        postgres,
        True,
    )
    sqlite = bench_sqlite(args.seconds, args.rounds)
    print_table("SQLite: app vs bare sqlite3 on the app's SQL", "sqlite3 same SQL/s", sqlite, False)

    vs_pgbench = ratios(postgres["spends_per_s"])
    vs_sqlite3 = ratios(sqlite["spends_per_s"])
    missed = shortfalls("PostgreSQL", vs_pgbench) + shortfalls("SQLite", vs_sqlite3)
    print("\ntargets met" if not missed else "\ntargets missed: " + "; ".join(missed))
    print(
        json.dumps(
            {
                "app_vs_pgbench_same_sql": vs_pgbench,
                "app_vs_sqlite3_same_sql": vs_sqlite3,
                "app_vs_pgbench_simple_update": {
                    clients: {
                        spread: round(row[f"app_{spread}"] / row["simple_update"], 3)
                        for spread in SPREADS
                    }
                    for clients, row in postgres["spends_per_s"].items()
                },
                "bare_psycopg_vs_pgbench_same_sql": {
                    clients: {
                        "spread": round(row["bare_psycopg_spread"] / row["same_sql_spread"], 3)
                    }
                    for clients, row in postgres["spends_per_s"].items()
                },
                "postgres_per_s": postgres["spends_per_s"],
                "sqlite_per_s": sqlite["spends_per_s"],
                "verify": {"postgres": postgres["verify"], "sqlite": sqlite["verify"]},
                "app_workers": {"kind": "processes", "layout": workers},
                "seconds": args.seconds,
                "rounds": args.rounds,
                "targets_met": not missed,
                "targets_missed": missed,
            }
        )
    )


if __name__ == "__main__":
    main()
