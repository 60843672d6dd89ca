"""Who may do what in the admin console, checked on the server for every call.

Every public function of this package takes the acting user's id and checks their role
inside its own transaction (a role revoked a moment ago is already gone); the state and
the HTTP routes check too, and the websocket guard refuses admin events from anyone else.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Subquery, bindparam, or_
from sqlmodel import Session, select

from adremix.enums import Role
from adremix.models import User
from adremix.services.accounts import effective_role
from adremix.services.errors import UserFacingError


class Permission(StrEnum):
    VIEW = "view"  # every page and export
    ADJUST_CREDITS = "adjust_credits"  # support within ADREMIX_SUPPORT_CREDIT_LIMIT
    REFUND = "refund"
    SUSPEND = "suspend"
    CHANGE_ROLES = "change_roles"
    RECONCILE = "reconcile"
    QUOTE = "quote"


SUPPORT_MAY = frozenset({Permission.VIEW, Permission.ADJUST_CREDITS})


def role_allows(role: str | None, permission: Permission) -> bool:
    if role == Role.ADMIN:
        return True
    return role == Role.SUPPORT and permission in SUPPORT_MAY


class NotStaff(Exception):
    """The caller is not (or no longer) staff. Deliberately not a UserFacingError: nothing
    tells a non-staff caller that the console exists."""


class NotAllowed(UserFacingError):
    """Staff, but their role does not allow this (support trying an admin's action)."""


@dataclass(frozen=True)
class Staff:
    """The acting staff member, as the audit log records them. `id` None: the command line."""

    id: int | None
    email: str
    role: str

    @property
    def label(self) -> str:
        return self.email


COMMAND_LINE = Staff(id=None, email="command line", role=Role.ADMIN)

PERMISSION_WORDS = {
    Permission.REFUND: "refund payments",
    Permission.SUSPEND: "suspend accounts",
    Permission.CHANGE_ROLES: "change roles",
    Permission.RECONCILE: "reconcile payments",
    Permission.QUOTE: "create quotes",
}


_users = User.__table__  # type: ignore[attr-defined]
# Built once: every console request starts with it. Plain columns, not a User object: the
# check needs five values, and building an ORM object for them costs more than the read.
_ACTOR = select(  # type: ignore[call-overload]
    _users.c.id, _users.c.email, _users.c.role, _users.c.deleted_at, _users.c.suspended_at
).where(_users.c.id == bindparam("actor_id"))


# The same check's read for a page that makes it inside its own first statement (one round
# trip fewer on every load): joined beside the page's rows, `actor_id` bound with them.
_actor = _users.alias("actor")
ACTOR: Subquery = (
    select(  # type: ignore[call-overload]
        _actor.c.email.label("actor_email"),
        _actor.c.role.label("actor_role"),
        or_(_actor.c.deleted_at.is_not(None), _actor.c.suspended_at.is_not(None)).label(
            "actor_blocked"
        ),
    )
    .where(_actor.c.id == bindparam("actor_id"))
    .subquery("actor")
)


def _of_actor(column: Any) -> Any:
    return select(column).where(_actor.c.id == bindparam("actor_id")).scalar_subquery()


# The same three as values to put beside each row of a page (a subquery that depends on
# nothing in the row: each database reads it once per statement). A page that comes back
# empty has nowhere to carry them, and checks with `require` instead; joining ACTOR to
# the page would keep its rows from streaming (SQLite copies them into a table first).
ACTOR_VALUES: tuple[Any, ...] = (
    _of_actor(_actor.c.email),
    _of_actor(_actor.c.role),
    _of_actor(or_(_actor.c.deleted_at.is_not(None), _actor.c.suspended_at.is_not(None))),
)


def admit_read(actor_id: int | None, row: Any, permission: Permission) -> Staff:
    """`require`'s verdict on ACTOR's (or ACTOR_VALUES') three columns as a page's
    statement read them (its first row's; None: no row, so no such user)."""
    if row is None:
        raise NotStaff("not staff")
    return admit(actor_id, row[0], row[1], blocked=bool(row[2]), permission=permission)


def require(session: Session, actor_id: int | None, permission: Permission) -> Staff:
    """The actor, if their role in force allows `permission`; else NotStaff or NotAllowed."""
    # On the session's connection: Session.execute's ORM dispatch costs half as much
    # again as this one-row read, on every console request.
    connection = session.connection()
    row = (
        connection.execute(_ACTOR, {"actor_id": actor_id}).first() if actor_id is not None else None
    )
    if row is None:
        raise NotStaff("not staff")
    blocked = row.deleted_at is not None or row.suspended_at is not None
    return admit(row.id, row.email, row.role, blocked=blocked, permission=permission)


def admit(
    actor_id: int | None,
    email: str | None,
    stored_role: str | None,
    *,
    blocked: bool,
    permission: Permission,
) -> Staff:
    """`require`'s verdict on the actor's row as read (by `require`, or by a page that
    reads it in its own first statement; `email` None: no such user)."""
    if email is None or blocked:
        raise NotStaff("not staff")
    role = effective_role(email=email, stored=stored_role)
    if role is None:
        raise NotStaff("not staff")
    if not role_allows(role, permission):
        raise NotAllowed(f"Only admins can {PERMISSION_WORDS.get(permission, permission)}.")
    return Staff(id=actor_id, email=email, role=role)


def staff_role(session: Session, actor_id: int | None) -> str:
    """The actor's role in force ("" when not staff)."""
    user = session.exec(select(User).where(User.id == actor_id)).first() if actor_id else None
    if user is None or user.deleted_at is not None or user.suspended_at is not None:
        return ""
    return effective_role(email=user.email, stored=user.role) or ""
