"""What History and New Ad load in one go, each read in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adremix.db import session_scope
from adremix.models import Generation
from adremix.services.library.collections import CollectionSummary, list_collections
from adremix.services.library.history import (
    HistoryFilter,
    HistoryItem,
    HistoryPage,
    history_item,
    query_history,
)
from adremix.services.library.preferences import read_preferences
from adremix.services.library.saved_templates import SavedTemplate, list_templates


@dataclass(frozen=True)
class HistoryView:
    page: HistoryPage
    collections: list[CollectionSummary]
    # The generation a link asked for (History's `?id=`), if it is the user's and kept.
    focused: HistoryItem | None = None


def history_view(
    *, user_id: int, filters: HistoryFilter, page_size: int, focus_id: int | None = None
) -> HistoryView:
    """One page of the user's generations matching `filters`, their collections, and the
    generation `focus_id` names (wherever it is in the list)."""
    with session_scope() as session:
        focused = session.get(Generation, focus_id) if focus_id else None
        owned = focused is not None and focused.user_id == user_id and focused.deleted_at is None
        return HistoryView(
            page=query_history(
                session=session, user_id=user_id, filters=filters, page_size=page_size
            ),
            collections=list_collections(session, user_id=user_id),
            focused=history_item(focused) if owned and focused is not None else None,
        )


@dataclass(frozen=True)
class NewAdDefaults:
    preferences: dict[str, Any]
    saved_templates: list[SavedTemplate]


def new_ad_defaults(*, user_id: int) -> NewAdDefaults:
    """New Ad's starting options (the user's preferences) and their saved templates."""
    with session_scope() as session:
        return NewAdDefaults(
            preferences=read_preferences(session, user_id=user_id),
            saved_templates=list_templates(session, user_id=user_id),
        )
