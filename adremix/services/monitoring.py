"""Health checks and Prometheus metrics, for load balancers and monitoring.

Readiness asks each dependency the app cannot serve without: the database, Redis (when
configured) and the file storage. Metrics are read from the database at scrape time, so
every web worker reports the same numbers for the whole cluster, whichever job worker
did the work: jobs queued and running, generations finished by outcome, the generation
latency histogram, and ledger errors (users whose balance differs from their entries,
payments whose clawbacks differ from their refunds).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from sqlmodel import select

from adremix.blocking import call
from adremix.db import session_scope
from adremix.enums import FINISHED_GENERATION_STATUSES, GenerationStatus
from adremix.models import Generation, UsageEvent
from adremix.services import payments
from adremix.services.storage import storage_for
from adremix.settings import Settings

log = logging.getLogger(__name__)
CHECK_TIMEOUT_S = 3.0
LATENCY_BUCKETS_S = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600)


@dataclass(frozen=True)
class Readiness:
    ready: bool
    checks: dict[str, str]  # dependency -> "ok", "not configured" or what failed


def readiness_checks(settings: Settings) -> dict[str, Callable[[], None]]:
    """Each dependency's check: returns when it answers, raises when it does not."""
    checks: dict[str, Callable[[], None]] = {"database": _check_database}
    if settings.redis_url:
        checks["redis"] = lambda: _check_redis(settings.redis_url)
    checks["storage"] = storage_for(settings).check
    return checks


async def readiness(settings: Settings) -> Readiness:
    """Ask every dependency at once, each within `CHECK_TIMEOUT_S`."""
    checks = readiness_checks(settings)

    async def one(check: Callable[[], None]) -> str:
        try:
            await asyncio.wait_for(call(check), CHECK_TIMEOUT_S)
        except TimeoutError:
            return f"no answer within {CHECK_TIMEOUT_S:g} s"
        except Exception as exc:
            log.warning("Readiness check failed", exc_info=exc)
            return f"failed: {type(exc).__name__}"
        return "ok"

    answers = await asyncio.gather(*(one(check) for check in checks.values()))
    results = dict(zip(checks, answers, strict=True))
    if "redis" not in results:
        results["redis"] = "not configured"
    ready = all(answer in ("ok", "not configured") for answer in results.values())
    return Readiness(ready=ready, checks=results)


def _check_database() -> None:
    with session_scope() as session:
        session.exec(select(sa.literal(1))).one()


def _check_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=CHECK_TIMEOUT_S)
    try:
        client.ping()
    finally:
        client.close()


def metrics_page() -> tuple[bytes, str]:
    """The Prometheus text exposition and its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST

    return generate_latest(_registry), CONTENT_TYPE_LATEST


class _DatabaseCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily | HistogramMetricFamily]:
        with session_scope() as session:
            running = session.exec(
                select(Generation.lease_owner.is_(None), sa.func.count())  # type: ignore[union-attr]
                .where(Generation.status == GenerationStatus.RUNNING)
                .group_by(Generation.lease_owner.is_(None))  # type: ignore[union-attr]
            ).all()
            finished = dict(
                session.exec(
                    select(Generation.status, sa.func.count())
                    .where(Generation.status.in_(FINISHED_GENERATION_STATUSES))  # type: ignore[attr-defined]
                    .group_by(Generation.status)
                ).all()
            )
            latency = session.exec(
                select(
                    sa.func.count(),
                    sa.func.coalesce(sa.func.sum(UsageEvent.latency_ms), 0),
                    *(
                        sa.func.sum(sa.case((UsageEvent.latency_ms <= bound * 1000, 1), else_=0))
                        for bound in LATENCY_BUCKETS_S
                    ),
                )
            ).one()
        queued = sum(n for unleased, n in running if unleased)
        jobs = GaugeMetricFamily(
            "adremix_generation_jobs", "Generation jobs not finished yet.", labels=["state"]
        )
        jobs.add_metric(["queued"], queued)
        jobs.add_metric(["running"], sum(n for _, n in running) - queued)
        yield jobs
        done = CounterMetricFamily(
            "adremix_generation_jobs_finished",
            "Generation jobs finished, by outcome (failed: nothing delivered, all refunded).",
            labels=["status"],
        )
        for status in FINISHED_GENERATION_STATUSES:
            done.add_metric([str(status)], finished.get(status, 0))
        yield done
        count, total_ms, *cumulative = latency
        bounds = zip(LATENCY_BUCKETS_S, cumulative, strict=True)
        yield HistogramMetricFamily(
            "adremix_generation_latency_seconds",
            "From the Generate press to the generation's settlement.",
            buckets=[*((str(float(b)), int(c or 0)) for b, c in bounds), ("+Inf", int(count))],
            sum_value=int(total_ms) / 1000,
        )
        errors = GaugeMetricFamily(
            "adremix_ledger_errors",
            "Users out of balance with their ledger entries plus payments whose clawbacks "
            "do not match their refunds (python -m adremix ledger verify lists them).",
        )
        # The audit is one aggregate query per check (about 0.06 s over 557,000 entries).
        audit = payments.audit_ledger()
        errors.add_metric([], len(audit.mismatches) + len(audit.refund_problems))
        yield errors


_registry = CollectorRegistry(auto_describe=False)
_registry.register(_DatabaseCollector())
