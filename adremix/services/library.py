"""Organising generations: favourites, collections, saved templates, deletion, preferences.

Every function takes the acting user's id and touches only that user's rows.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from adremix.models import (
    Collection,
    CollectionItem,
    Generation,
    StoredImage,
    User,
    UserTemplate,
    utcnow,
)
from adremix.services.storage import LocalStorage
from adremix.services.templates import PLACEMENTS, QUALITIES, TEMPLATES, RemixOptions

MAX_NAME = 80


class LibraryError(Exception):
    """A request the user must change (message safe to show)."""


def _own_generation_ids(session: Session, user_id: int, ids: list[int]) -> list[int]:
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


def set_favourite(*, session: Session, user_id: int, generation_ids: list[int], value: bool) -> int:
    own = _own_generation_ids(session, user_id, generation_ids)
    if own:
        session.execute(
            update(Generation).where(Generation.id.in_(own)).values(is_favourite=value)  # type: ignore[union-attr]
        )
    return len(own)


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise LibraryError("Give it a name.")
    if len(name) > MAX_NAME:
        raise LibraryError(f"Names are limited to {MAX_NAME} characters.")
    return name


def _own_collection(session: Session, user_id: int, collection_id: int) -> Collection:
    collection = session.get(Collection, collection_id)
    if collection is None or collection.user_id != user_id:
        raise LibraryError("That collection does not exist.")
    return collection


def _save_named(session: Session, row: Collection | UserTemplate, what: str) -> None:
    """Flush a named row; the (user, name) unique constraint turns into a plain message."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        raise LibraryError(f"You already have a {what} with that name.") from exc


def create_collection(*, session: Session, user_id: int, name: str) -> Collection:
    collection = Collection(user_id=user_id, name=_clean_name(name))
    _save_named(session, collection, "collection")
    return collection


def rename_collection(*, session: Session, user_id: int, collection_id: int, name: str) -> None:
    collection = _own_collection(session, user_id, collection_id)
    collection.name = _clean_name(name)
    _save_named(session, collection, "collection")


def delete_collection(*, session: Session, user_id: int, collection_id: int) -> None:
    """Removes the folder; the generations in it stay in History."""
    collection = _own_collection(session, user_id, collection_id)
    session.execute(delete(CollectionItem).where(CollectionItem.collection_id == collection.id))
    session.delete(collection)


def list_collections(*, session: Session, user_id: int) -> list[tuple[int, str, int]]:
    """(id, name, number of live generations) for each of the user's collections."""
    rows = session.exec(
        select(Collection.id, Collection.name, func.count(Generation.id))
        .outerjoin(CollectionItem, CollectionItem.collection_id == Collection.id)
        .outerjoin(
            Generation,
            (Generation.id == CollectionItem.generation_id) & Generation.deleted_at.is_(None),  # type: ignore[union-attr]
        )
        .where(Collection.user_id == user_id)
        .group_by(Collection.id, Collection.name)
        .order_by(Collection.name)
    ).all()
    return [(int(r[0]), str(r[1]), int(r[2])) for r in rows]


def add_to_collection(
    *, session: Session, user_id: int, collection_id: int, generation_ids: list[int]
) -> int:
    collection = _own_collection(session, user_id, collection_id)
    own = _own_generation_ids(session, user_id, generation_ids)
    present = set(
        session.exec(
            select(CollectionItem.generation_id).where(
                CollectionItem.collection_id == collection.id,
                CollectionItem.generation_id.in_(own),  # type: ignore[attr-defined]
            )
        )
    )
    for generation_id in own:
        if generation_id not in present:
            session.add(CollectionItem(collection_id=collection.id, generation_id=generation_id))
    return len(own)


def remove_from_collection(
    *, session: Session, user_id: int, collection_id: int, generation_ids: list[int]
) -> int:
    collection = _own_collection(session, user_id, collection_id)
    own = _own_generation_ids(session, user_id, generation_ids)
    session.execute(
        delete(CollectionItem).where(
            CollectionItem.collection_id == collection.id,
            CollectionItem.generation_id.in_(own),  # type: ignore[attr-defined]
        )
    )
    return len(own)


def delete_generations(
    *, session: Session, user_id: int, generation_ids: list[int], storage: LocalStorage
) -> int:
    """Delete generations and their images; the ledger entries that paid for them stay."""
    own = _own_generation_ids(session, user_id, generation_ids)
    if not own:
        return 0
    rows = session.exec(select(Generation).where(Generation.id.in_(own))).all()  # type: ignore[union-attr]
    hashes = {sha for row in rows for sha in row.output_hashes}
    for row in rows:
        row.deleted_at = utcnow()
        row.output_hashes = []
        row.is_favourite = False
        session.add(row)
    session.execute(delete(CollectionItem).where(CollectionItem.generation_id.in_(own)))  # type: ignore[attr-defined]
    session.flush()
    _forget_images(session, user_id=user_id, hashes=hashes, storage=storage)
    return len(own)


def _forget_images(
    session: Session, *, user_id: int, hashes: set[str], storage: LocalStorage
) -> None:
    """Drop the user's claim on result images no live generation of theirs still shows,
    and the files themselves once nobody has a claim (files are shared by content hash)."""
    live = {
        sha
        for outputs in session.exec(
            select(Generation.output_hashes).where(
                Generation.user_id == user_id,
                Generation.deleted_at.is_(None),  # type: ignore[union-attr]
            )
        )
        for sha in outputs
    }
    for sha in hashes - live:
        session.execute(
            delete(StoredImage).where(
                StoredImage.user_id == user_id,
                StoredImage.sha256 == sha,
                StoredImage.kind == "result",
            )
        )
        claimed = session.exec(select(StoredImage.id).where(StoredImage.sha256 == sha)).first()
        if claimed is None:
            storage.delete("result", sha)
            storage.delete("thumb", sha)


# --- saved templates --------------------------------------------------------------------

TEMPLATE_FIELDS = {f.name for f in dataclasses.fields(RemixOptions)}


def save_template(
    *, session: Session, user_id: int, name: str, options: dict[str, Any]
) -> UserTemplate:
    clean = {key: value for key, value in options.items() if key in TEMPLATE_FIELDS}
    template = UserTemplate(user_id=user_id, name=_clean_name(name), options=clean)
    _save_named(session, template, "template")
    return template


def _own_template(session: Session, user_id: int, template_id: int) -> UserTemplate:
    template = session.get(UserTemplate, template_id)
    if template is None or template.user_id != user_id:
        raise LibraryError("That template does not exist.")
    return template


def rename_template(*, session: Session, user_id: int, template_id: int, name: str) -> None:
    template = _own_template(session, user_id, template_id)
    template.name = _clean_name(name)
    _save_named(session, template, "template")


def delete_template(*, session: Session, user_id: int, template_id: int) -> None:
    session.delete(_own_template(session, user_id, template_id))


def list_templates(*, session: Session, user_id: int) -> list[UserTemplate]:
    return list(
        session.exec(
            select(UserTemplate).where(UserTemplate.user_id == user_id).order_by(UserTemplate.name)
        )
    )


def template_options(*, session: Session, user_id: int, template_id: int) -> dict[str, Any]:
    return dict(_own_template(session, user_id, template_id).options)


# --- preferences --------------------------------------------------------------------------

DEFAULT_PREFERENCES: dict[str, Any] = {
    "default_template": "minimal",
    "default_placement": "square",
    "default_quality": "medium",
    "default_variations": 1,
    "low_credit_threshold": 2,
}


def validated_preferences(values: dict[str, Any]) -> dict[str, Any]:
    """Keep only known keys with valid values; raises LibraryError on a bad value."""
    prefs = dict(DEFAULT_PREFERENCES)
    checks = {
        "default_template": lambda v: v in TEMPLATES,
        "default_placement": lambda v: v in PLACEMENTS,
        "default_quality": lambda v: v in QUALITIES,
        "default_variations": lambda v: isinstance(v, int) and 1 <= v <= 4,
        "low_credit_threshold": lambda v: isinstance(v, int) and 0 <= v <= 1000,
    }
    for key, check in checks.items():
        if key in values:
            if not check(values[key]):
                raise LibraryError(f"Invalid value for {key.replace('_', ' ')}.")
            prefs[key] = values[key]
    return prefs


def get_preferences(*, session: Session, user_id: int) -> dict[str, Any]:
    user = session.get(User, user_id)
    stored = dict(user.preferences) if user else {}
    return {**DEFAULT_PREFERENCES, **{k: v for k, v in stored.items() if k in DEFAULT_PREFERENCES}}


def save_preferences(*, session: Session, user_id: int, values: dict[str, Any]) -> dict[str, Any]:
    user = session.get(User, user_id)
    if user is None:
        raise LibraryError("Unknown user.")
    prefs = validated_preferences({**get_preferences(session=session, user_id=user_id), **values})
    user.preferences = prefs
    session.add(user)
    return prefs
