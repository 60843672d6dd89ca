"""Names users give to collections and saved templates: tidied, bounded, unique per user."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from adremix.models import Collection, UserTemplate
from adremix.services.library.errors import LibraryError

MAX_NAME = 80


def clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise LibraryError("Give it a name.")
    if len(name) > MAX_NAME:
        raise LibraryError(f"Names are limited to {MAX_NAME} characters.")
    return name


def save_named(session: Session, row: Collection | UserTemplate, what: str) -> None:
    """Flush a named row; the (user, name) unique constraint turns into a plain message."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        raise LibraryError(f"You already have a {what} with that name.") from exc
