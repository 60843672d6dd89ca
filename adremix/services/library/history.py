"""The history query: combinable filters, search, sorting and pagination, owner-scoped.

Every query starts from `generation.user_id = :me`, so no filter value (a collection id,
a generation id) can reach another user's rows; the (user_id, created_at) and
(user_id, status, created_at) indexes keep page loads fast at 10,000 rows per user.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from adremix.enums import GenerationStatus
from adremix.models import Collection, CollectionItem, Generation
from adremix.services.generation import PLACEMENTS, STYLES

# What the status filter offers (a pending generation is shown as running).
STATUSES = (
    GenerationStatus.SUCCEEDED,
    GenerationStatus.PARTIAL,
    GenerationStatus.FAILED,
    GenerationStatus.RUNNING,
)
SORTS = ("newest", "oldest")
MAX_SEARCH = 100


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _parse_int(value: str | None, default: int | None = None) -> int | None:
    try:
        return int(value) if value else default
    except ValueError:
        return default


@dataclass(frozen=True)
class HistoryFilter:
    """What the History page shows; round-trips through the URL query string."""

    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    template: str = ""
    placement: str = ""
    favourites: bool = False
    collection_id: int | None = None
    search: str = ""
    sort: str = "newest"
    page: int = 1

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> HistoryFilter:
        """Parse a query string leniently: unknown or malformed values are ignored."""
        status = params.get("status", "")
        template = params.get("template", "")
        placement = params.get("placement", "")
        sort = params.get("sort", "newest")
        return cls(
            status=status if status in STATUSES else "",
            date_from=_parse_date(params.get("from")),
            date_to=_parse_date(params.get("to")),
            template=template if template in STYLES else "",
            placement=placement if placement in PLACEMENTS else "",
            favourites=params.get("fav") == "1",
            collection_id=_parse_int(params.get("collection")),
            search=params.get("q", "").strip()[:MAX_SEARCH],
            sort=sort if sort in SORTS else "newest",
            page=max(1, _parse_int(params.get("page"), 1) or 1),
        )

    def to_query(self) -> dict[str, str]:
        """Only the non-default values, so URLs stay short and bookmarkable."""
        query = {
            "status": self.status,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "template": self.template,
            "placement": self.placement,
            "fav": "1" if self.favourites else "",
            "collection": str(self.collection_id) if self.collection_id else "",
            "q": self.search,
            "sort": "" if self.sort == "newest" else self.sort,
            "page": "" if self.page == 1 else str(self.page),
        }
        return {key: value for key, value in query.items() if value}


@dataclass(frozen=True)
class HistoryItem:
    """One generation as History and the dashboard show it."""

    id: int
    status: GenerationStatus
    created_at: datetime
    instructions: str
    template: str
    placement: str
    quality: str
    variations: int
    credits_spent: int
    output_hashes: list[str]
    source_hash: str
    error_message: str | None
    cached: bool
    favourite: bool
    latency_ms: int | None
    parent_id: int | None = None  # a region edit of that generation


def history_item(row: Generation) -> HistoryItem:
    return HistoryItem(
        id=row.id or 0,
        status=GenerationStatus(row.status),
        created_at=row.created_at,
        instructions=row.instructions,
        template=row.template,
        placement=row.placement,
        quality=row.quality,
        variations=row.variations,
        credits_spent=row.credits_spent,
        output_hashes=list(row.output_hashes),
        source_hash=row.source_image_hash,
        error_message=row.error_message,
        cached="cached_from" in (row.options or {}),
        favourite=row.is_favourite,
        latency_ms=row.latency_ms,
        parent_id=row.parent_id,
    )


@dataclass(frozen=True)
class HistoryPage:
    items: list[HistoryItem] = field(default_factory=list)
    total: int = 0
    page: int = 1
    page_count: int = 1


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(user_id: int, filters: HistoryFilter) -> list:
    conditions = [Generation.user_id == user_id, Generation.deleted_at.is_(None)]  # type: ignore[union-attr]
    if filters.status:
        conditions.append(Generation.status == filters.status)
    if filters.date_from:
        conditions.append(
            Generation.created_at >= datetime.combine(filters.date_from, time.min, tzinfo=UTC)
        )
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=UTC)
        conditions.append(Generation.created_at < end)
    if filters.template:
        conditions.append(Generation.template == filters.template)
    if filters.placement:
        conditions.append(Generation.placement == filters.placement)
    if filters.favourites:
        conditions.append(Generation.is_favourite.is_(True))  # type: ignore[attr-defined]
    if filters.collection_id is not None:
        # The collection must be the user's own: someone else's id matches nothing.
        owned = select(Collection.id).where(
            Collection.id == filters.collection_id, Collection.user_id == user_id
        )
        in_collection = select(CollectionItem.generation_id).where(
            CollectionItem.collection_id.in_(owned)  # type: ignore[attr-defined]
        )
        conditions.append(Generation.id.in_(in_collection))  # type: ignore[union-attr]
    if filters.search:
        words = [w for w in filters.search.split() if w][:8]
        for word in words:
            pattern = f"%{_escape_like(word)}%"
            conditions.append(Generation.instructions.ilike(pattern, escape="\\"))  # type: ignore[attr-defined]
    return conditions


def query_history(
    *, session: Session, user_id: int, filters: HistoryFilter, page_size: int = 24
) -> HistoryPage:
    """One page of the user's generations matching every filter, plus the total count."""
    conditions = _conditions(user_id, filters)
    total = session.exec(select(func.count()).select_from(Generation).where(*conditions)).one()
    page_count = max(1, -(-total // page_size))
    page = min(filters.page, page_count)
    order = (
        (Generation.created_at.asc(), Generation.id.asc())  # type: ignore[attr-defined,union-attr]
        if filters.sort == "oldest"
        else (Generation.created_at.desc(), Generation.id.desc())  # type: ignore[attr-defined,union-attr]
    )
    items = session.exec(
        select(Generation)
        .where(*conditions)
        .order_by(*order)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return HistoryPage(
        items=[history_item(row) for row in items], total=total, page=page, page_count=page_count
    )


def own_generation_ids(session: Session, user_id: int, ids: list[int]) -> list[int]:
    """The ids among `ids` that are the user's own live generations."""
    if not ids:
        return []
    return list(
        session.exec(
            select(Generation.id).where(
                Generation.user_id == user_id,
                Generation.id.in_(ids),  # type: ignore[union-attr]
                Generation.deleted_at.is_(None),  # type: ignore[union-attr]
            )
        )
    )
