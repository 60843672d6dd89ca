"""Lenient parsing of a page's URL query (a shared link may be old or hand-edited)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import BindParameter, Integer, bindparam

from adremix.services.billing import IST

MAX_SEARCH = 120
MAX_PAGE = 10_000


def parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def parse_int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def parse_page(value: str | None) -> int:
    return min(MAX_PAGE, max(1, parse_int(value) or 1))


def choice(value: str | None, allowed: Collection[str], default: str = "") -> str:
    return value if value in allowed else default


def day_start(day: date) -> datetime:
    """The first moment of a day in India (the console's calendar), in UTC."""
    return datetime.combine(day, time.min, tzinfo=IST).astimezone(UTC)


def day_end(day: date) -> datetime:
    """The first moment after a day in India, in UTC."""
    return day_start(day + timedelta(days=1))


def non_empty(query: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in query.items() if value}


def inline(name: str, value: int | None = None) -> BindParameter[int]:
    """A LIMIT or OFFSET written into the statement's text when it runs (its value still
    given per call, or here): PostgreSQL then plans a prepared statement once, for the
    rows it really returns. A bound LIMIT is planned as if a tenth of the table came
    back, a plan so bad that it plans the statement again on every call instead."""
    return bindparam(name, value, type_=Integer, literal_execute=True)


def paging(name: str, postgres: bool) -> BindParameter[int]:
    """A page's LIMIT or OFFSET: written into the text on PostgreSQL (see `inline`), bound
    on SQLite, whose planner does not plan by its value: there every page of a statement is
    one text, prepared once in the driver's statement cache and not re-rendered per call."""
    return inline(name) if postgres else bindparam(name, type_=Integer)
