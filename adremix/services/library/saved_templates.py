"""Saved templates: a user's instructions and options, offered again on New Ad."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from adremix.db import session_scope
from adremix.models import Generation, UserTemplate
from adremix.services.generation import RemixOptions
from adremix.services.library.errors import LibraryError
from adremix.services.library.naming import clean_name, save_named

TEMPLATE_FIELDS = {f.name for f in dataclasses.fields(RemixOptions)}


@dataclass(frozen=True)
class SavedTemplate:
    id: int
    name: str


def _own_template(session: Session, user_id: int, template_id: int) -> UserTemplate:
    template = session.get(UserTemplate, template_id)
    if template is None or template.user_id != user_id:
        raise LibraryError("That template does not exist.")
    return template


def save_template(
    session: Session, *, user_id: int, name: str, options: dict[str, Any]
) -> SavedTemplate:
    """Keep these options (known fields only) under a name of the user's."""
    clean = {key: value for key, value in options.items() if key in TEMPLATE_FIELDS}
    template = UserTemplate(user_id=user_id, name=clean_name(name), options=clean)
    save_named(session, template, "template")
    return SavedTemplate(template.id or 0, template.name)


def save_generation_as_template(*, user_id: int, generation_id: int, name: str) -> SavedTemplate:
    """History's "Save as template": the options one of the user's generations used."""
    with session_scope() as session:
        row = session.get(Generation, generation_id)
        if row is None or row.user_id != user_id or row.deleted_at is not None:
            raise LibraryError("That generation does not exist.")
        return save_template(session, user_id=user_id, name=name, options=dict(row.options))


def rename_template(*, user_id: int, template_id: int, name: str) -> None:
    with session_scope() as session:
        template = _own_template(session, user_id, template_id)
        template.name = clean_name(name)
        save_named(session, template, "template")


def delete_template(*, user_id: int, template_id: int) -> None:
    with session_scope() as session:
        session.delete(_own_template(session, user_id, template_id))


def list_templates(session: Session, *, user_id: int) -> list[SavedTemplate]:
    rows = session.exec(
        select(UserTemplate).where(UserTemplate.user_id == user_id).order_by(UserTemplate.name)
    )
    return [SavedTemplate(row.id or 0, row.name) for row in rows]


def template_options(*, user_id: int, template_id: int) -> dict[str, Any]:
    """A saved template's options, for New Ad's form."""
    with session_scope() as session:
        return dict(_own_template(session, user_id, template_id).options)
