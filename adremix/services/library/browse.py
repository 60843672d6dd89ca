"""What History and New Ad load in one go, each read in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adremix.db import session_scope
from adremix.services.library.collections import CollectionSummary, list_collections
from adremix.services.library.history import HistoryFilter, HistoryPage, query_history
from adremix.services.library.preferences import read_preferences
from adremix.services.library.saved_templates import SavedTemplate, list_templates


@dataclass(frozen=True)
class HistoryView:
    page: HistoryPage
    collections: list[CollectionSummary]


def history_view(*, user_id: int, filters: HistoryFilter, page_size: int) -> HistoryView:
    """One page of the user's generations matching `filters`, and their collections."""
    with session_scope() as session:
        return HistoryView(
            page=query_history(
                session=session, user_id=user_id, filters=filters, page_size=page_size
            ),
            collections=list_collections(session, user_id=user_id),
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
