"""Collections: named folders of generations. Removing a folder keeps its generations.

Every function takes the acting user's id, touches only that user's rows, and is its own
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func
from sqlmodel import Session, select

from adremix.db import session_scope
from adremix.models import Collection, CollectionItem, Generation
from adremix.services.library.errors import LibraryError
from adremix.services.library.history import own_generation_ids
from adremix.services.library.naming import clean_name, save_named


@dataclass(frozen=True)
class CollectionSummary:
    id: int
    name: str
    count: int  # live generations in it


def _own_collection(session: Session, user_id: int, collection_id: int) -> Collection:
    collection = session.get(Collection, collection_id)
    if collection is None or collection.user_id != user_id:
        raise LibraryError("That collection does not exist.")
    return collection


def create_collection(*, user_id: int, name: str) -> int:
    """A new, empty collection; returns its id."""
    with session_scope() as session:
        collection = Collection(user_id=user_id, name=clean_name(name))
        save_named(session, collection, "collection")
        assert collection.id is not None
        return collection.id


def rename_collection(*, user_id: int, collection_id: int, name: str) -> None:
    with session_scope() as session:
        collection = _own_collection(session, user_id, collection_id)
        collection.name = clean_name(name)
        save_named(session, collection, "collection")


def delete_collection(*, user_id: int, collection_id: int) -> None:
    """Removes the folder; the generations in it stay in History."""
    with session_scope() as session:
        collection = _own_collection(session, user_id, collection_id)
        session.execute(delete(CollectionItem).where(CollectionItem.collection_id == collection.id))
        session.delete(collection)


def list_collections(session: Session, *, user_id: int) -> list[CollectionSummary]:
    """The user's collections by name, each with its number of live generations."""
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
    return [CollectionSummary(int(r[0]), str(r[1]), int(r[2])) for r in rows]


def add_to_collection(*, user_id: int, collection_id: int, generation_ids: list[int]) -> int:
    with session_scope() as session:
        collection = _own_collection(session, user_id, collection_id)
        own = own_generation_ids(session, user_id, generation_ids)
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
                session.add(
                    CollectionItem(collection_id=collection.id, generation_id=generation_id)
                )
        return len(own)


def remove_from_collection(*, user_id: int, collection_id: int, generation_ids: list[int]) -> int:
    with session_scope() as session:
        collection = _own_collection(session, user_id, collection_id)
        own = own_generation_ids(session, user_id, generation_ids)
        session.execute(
            delete(CollectionItem).where(
                CollectionItem.collection_id == collection.id,
                CollectionItem.generation_id.in_(own),  # type: ignore[attr-defined]
            )
        )
        return len(own)
