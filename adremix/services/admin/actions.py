"""What staff do to an account: adjust credits, suspend and restore, grant and revoke
roles. Each is one transaction holding the audit log's lock from the start, so the action
and its audit entry commit together and concurrent actions queue in one order.

A credit adjustment carries the form's idempotency key: a double submit, a replayed
websocket event or a second worker finds the first entry and changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from adremix.db import session_scope
from adremix.enums import AuditAction, Role
from adremix.models import AuditEntry, User, utcnow
from adremix.services import credits
from adremix.services.accounts import effective_role, set_suspended, settings_role
from adremix.services.admin import audit
from adremix.services.admin.access import COMMAND_LINE, Permission, Staff, require
from adremix.services.errors import UserFacingError
from adremix.settings import get_settings

MAX_REASON = 1_000
MAX_ADJUSTMENT = 1_000_000
KEY_PREFIX = "admin_adjustment:"


class AdminActionRefused(UserFacingError):
    """An action that cannot be done as asked (no reason, over a limit, on oneself...)."""


@dataclass(frozen=True)
class Adjusted:
    amount: int
    balance_after: int
    repeated: bool  # the same submission again: nothing moved this time


def clean_reason(reason: str) -> str:
    text = " ".join(reason.split())
    if not text:
        raise AdminActionRefused("Give a reason: it is kept in the audit log.")
    if len(text) > MAX_REASON:
        raise AdminActionRefused(f"Keep the reason under {MAX_REASON} characters.")
    return text


def _target(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.id is None:
        raise AdminActionRefused("There is no user with that id.")
    if user.deleted_at is not None:
        raise AdminActionRefused("This account was deleted.")
    return user


def _support_moved_today(session: Session, actor: Staff) -> int:
    """Credits this support member moved (granted or deducted) in the last 24 hours."""
    since = utcnow() - timedelta(hours=24)
    afters = session.exec(
        select(AuditEntry.after).where(
            AuditEntry.actor_id == actor.id,
            AuditEntry.action == AuditAction.CREDIT_ADJUSTMENT,
            AuditEntry.created_at >= since,
        )
    ).all()
    return sum(abs(int(json.loads(after).get("amount", 0))) for after in afters)


def _adjust(
    session: Session, actor: Staff, user: User, amount: int, reason: str, key: str
) -> Adjusted:
    assert user.id is not None
    audit_key = "adjust:" + key
    repeat = audit.existing_entry(session, audit_key)
    if repeat is not None:
        previous = json.loads(repeat.after)
        return Adjusted(
            amount=int(previous["amount"]),
            balance_after=int(previous["balance"]),
            repeated=True,
        )
    if actor.role == Role.SUPPORT:
        limit = get_settings().support_credit_limit
        moved = _support_moved_today(session, actor)
        if moved + abs(amount) > limit:
            left = max(0, limit - moved)
            raise AdminActionRefused(
                f"Support can move at most {limit} credits in 24 hours; {left} left for now. "
                "Ask an admin for more."
            )
    before = user.credit_balance
    try:
        entry = credits.adjust_balance(
            session=session,
            user_id=user.id,
            amount=amount,
            reason=reason,
            idempotency_key=KEY_PREFIX + key,
        )
    except credits.InsufficientCredits as exc:
        raise AdminActionRefused(
            f"The balance is {exc.available}: a deduction can take at most that much "
            "(a balance never goes below zero)."
        ) from exc
    audit.append(
        session,
        actor=actor,
        action=AuditAction.CREDIT_ADJUSTMENT,
        target_type="user",
        target_id=user.id,
        reason=reason,
        before={"balance": before},
        after={"amount": entry.amount, "balance": entry.balance_after, "entry": entry.id},
        idempotency_key=audit_key,
    )
    return Adjusted(
        amount=entry.amount,
        balance_after=entry.balance_after,
        repeated=entry.replayed,
    )


def _check_adjustment(amount: int, key: str) -> None:
    if amount == 0:
        raise AdminActionRefused("Enter a number of credits other than zero.")
    if abs(amount) > MAX_ADJUSTMENT:
        raise AdminActionRefused(f"Adjust at most {MAX_ADJUSTMENT:,} credits at a time.")
    if not 1 <= len(key) <= 100:
        raise AdminActionRefused("This form expired; reload the page and try again.")


def adjust_credits(
    *, actor_id: int, user_id: int, amount: int, reason: str, idempotency_key: str
) -> Adjusted:
    """Grant (positive) or deduct (negative) credits with a reason, once per form intent."""
    _check_adjustment(amount, idempotency_key)
    reason = clean_reason(reason)
    with session_scope() as session:
        audit.lock_head(session)  # first: submissions queue here, then see each other
        actor = require(session, actor_id, Permission.ADJUST_CREDITS)
        user = _target(session, user_id)
        return _adjust(session, actor, user, amount, reason, idempotency_key)


def adjust_credits_by_operator(
    *, email: str, amount: int, reason: str, idempotency_key: str
) -> Adjusted:
    """`python -m adremix credits grant`: the same adjustment, audited as the command line."""
    _check_adjustment(amount, idempotency_key)
    reason = clean_reason(reason)
    with session_scope() as session:
        audit.lock_head(session)
        user = session.exec(select(User).where(User.email == email.strip().lower())).first()
        if user is None:
            raise AdminActionRefused(f"No user with e-mail {email}.")
        return _adjust(
            session, COMMAND_LINE, _target(session, user.id or 0), amount, reason, idempotency_key
        )


@dataclass(frozen=True)
class Suspension:
    suspended: bool
    sessions_ended: int
    changed: bool


def set_suspension(*, actor_id: int, user_id: int, suspended: bool, reason: str) -> Suspension:
    """Suspend (sessions end at once, sign-in refused) or restore an account; data stays."""
    reason = clean_reason(reason)
    with session_scope() as session:
        audit.lock_head(session)
        actor = require(session, actor_id, Permission.SUSPEND)
        user = _target(session, user_id)
        if suspended and user.id == actor.id:
            raise AdminActionRefused("You cannot suspend your own account.")
        was = user.suspended_at is not None
        if was == suspended:
            return Suspension(suspended=was, sessions_ended=0, changed=False)
        ended = set_suspended(session=session, user=user, suspended=suspended)
        audit.append(
            session,
            actor=actor,
            action=AuditAction.SUSPEND if suspended else AuditAction.UNSUSPEND,
            target_type="user",
            target_id=user_id,
            reason=reason,
            before={"suspended": was},
            after={"suspended": suspended, "sessions_ended": ended},
        )
        return Suspension(suspended=suspended, sessions_ended=ended, changed=True)


@dataclass(frozen=True)
class RoleChange:
    role: str  # the role in force afterwards ("" for none)
    changed: bool


def _set_role(
    session: Session, actor: Staff, user: User, role: Role | None, reason: str
) -> RoleChange:
    from_settings = settings_role(user.email)
    if role is None and from_settings is not None:
        raise AdminActionRefused(
            f"{user.email} is {from_settings} through "
            f"ADREMIX_{from_settings.upper()}_EMAILS; remove the address there."
        )
    before_role = effective_role(email=user.email, stored=user.role) or ""
    if (user.role or None) == role:
        return RoleChange(role=before_role, changed=False)
    stored_before = user.role or ""
    user.role = role
    session.add(user)
    session.flush()
    after_role = effective_role(email=user.email, stored=user.role) or ""
    assert user.id is not None
    audit.append(
        session,
        actor=actor,
        action=AuditAction.ROLE_GRANT if role else AuditAction.ROLE_REVOKE,
        target_type="user",
        target_id=user.id,
        reason=reason,
        before={"role": before_role, "granted": stored_before},
        after={"role": after_role, "granted": role or ""},
    )
    return RoleChange(role=after_role, changed=True)


def set_role(*, actor_id: int, user_id: int, role: str, reason: str) -> RoleChange:
    """Grant a role ("admin" or "support") or revoke the stored grant ("")."""
    wanted = Role(role) if role else None
    reason = clean_reason(reason)
    with session_scope() as session:
        audit.lock_head(session)
        actor = require(session, actor_id, Permission.CHANGE_ROLES)
        user = _target(session, user_id)
        if user.id == actor.id:
            raise AdminActionRefused(
                "You cannot change your own role (ask another admin, or use "
                "`python -m adremix roles`)."
            )
        return _set_role(session, actor, user, wanted, reason)


def set_role_by_operator(*, email: str, role: str, grant: bool) -> RoleChange:
    """`python -m adremix roles grant|revoke EMAIL ROLE`, audited as the command line."""
    wanted = Role(role)
    with session_scope() as session:
        audit.lock_head(session)
        user = session.exec(select(User).where(User.email == email.strip().lower())).first()
        if user is None:
            raise AdminActionRefused(f"No user with e-mail {email}: they must sign in once first.")
        user = _target(session, user.id or 0)
        if not grant and (user.role or None) != wanted:
            current = user.role or "no role"
            raise AdminActionRefused(f"{user.email} has {current} granted, not {wanted}.")
        return _set_role(
            session,
            COMMAND_LINE,
            user,
            wanted if grant else None,
            f"roles {'grant' if grant else 'revoke'} from the command line",
        )
