"""A user's preferences: New Ad's starting options and the low-credit warning threshold.

The defaults come from `RemixOptions` and the settings, so a changed default shows up
everywhere at once.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from adremix.db import session_scope
from adremix.models import User
from adremix.services.generation import (
    DEFAULT_OPTIONS,
    MAX_VARIATIONS,
    PLACEMENTS,
    QUALITIES,
    STYLES,
)
from adremix.services.library.errors import LibraryError
from adremix.settings import get_settings

MAX_LOW_CREDIT_THRESHOLD = 1000


def default_preferences() -> dict[str, Any]:
    return {
        "default_template": DEFAULT_OPTIONS.template,
        "default_placement": DEFAULT_OPTIONS.placement,
        "default_quality": DEFAULT_OPTIONS.quality,
        "default_variations": DEFAULT_OPTIONS.variations,
        "low_credit_threshold": get_settings().low_credit_threshold,
    }


def validated_preferences(values: dict[str, Any]) -> dict[str, Any]:
    """Keep only known keys with valid values; raises LibraryError on a bad value."""
    prefs = default_preferences()
    checks = {
        "default_template": lambda v: v in STYLES,
        "default_placement": lambda v: v in PLACEMENTS,
        "default_quality": lambda v: v in QUALITIES,
        "default_variations": lambda v: isinstance(v, int) and 1 <= v <= MAX_VARIATIONS,
        "low_credit_threshold": lambda v: isinstance(v, int) and 0 <= v <= MAX_LOW_CREDIT_THRESHOLD,
    }
    for key, check in checks.items():
        if key in values:
            if not check(values[key]):
                raise LibraryError(f"Invalid value for {key.replace('_', ' ')}.")
            prefs[key] = values[key]
    return prefs


def read_preferences(session: Session, *, user_id: int) -> dict[str, Any]:
    """The user's stored preferences over the defaults."""
    user = session.get(User, user_id)
    stored = dict(user.preferences) if user else {}
    defaults = default_preferences()
    return {**defaults, **{k: v for k, v in stored.items() if k in defaults}}


def save_preferences(*, user_id: int, values: dict[str, Any]) -> dict[str, Any]:
    """Validate and store; returns the preferences as now saved."""
    with session_scope() as session:
        user = session.get(User, user_id)
        if user is None:
            raise LibraryError("Unknown user.")
        prefs = validated_preferences({**read_preferences(session, user_id=user_id), **values})
        user.preferences = prefs
        session.add(user)
        return prefs
