"""The admin console's roles: who may do what, checked by every service call; suspension
and role changes; the `roles` commands."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlmodel import select

from adremix.__main__ import main as cli
from adremix.db import session_scope
from adremix.models import AuditEntry, AuthSession, User
from adremix.services import accounts, admin
from adremix.services.accounts import SignInRefused, VerifiedIdentity
from adremix.settings import get_settings
from tests.conftest import configure_app
from tests.factories import give_credits, make_staff, make_user

TODAY = date(2026, 12, 1)


def every_admin_call(actor_id: int, user_id: int) -> dict[str, Callable[[], Any]]:
    """Each public admin service function, called as `actor_id` would call it."""
    return {
        "find_users": lambda: admin.find_users(actor_id=actor_id, filters=admin.UserFilters()),
        "user_detail": lambda: admin.user_detail(actor_id=actor_id, user_id=user_id),
        "adjust_credits": lambda: admin.adjust_credits(
            actor_id=actor_id, user_id=user_id, amount=5, reason="r", idempotency_key="k" * 20
        ),
        "set_suspension": lambda: admin.set_suspension(
            actor_id=actor_id, user_id=user_id, suspended=True, reason="r"
        ),
        "set_role": lambda: admin.set_role(
            actor_id=actor_id, user_id=user_id, role="admin", reason="r"
        ),
        "refund_preview": lambda: admin.refund_preview(actor_id=actor_id, payment_id=1),
        "refund_payment": lambda: admin.refund_payment(
            actor_id=actor_id,
            payment_id=1,
            amount_paise=100,
            reason="r",
            idempotency_key="k" * 20,
            expected_committed_paise=0,
        ),
        "retry_refund": lambda: admin.retry_refund(actor_id=actor_id, payment_id=1),
        "reconcile_order": lambda: admin.reconcile_order(actor_id=actor_id, order_id=1),
        "create_quote": lambda: admin.create_quote(
            actor_id=actor_id, email="x@example.com", credits=5, amount_paise=500, gstin=None
        ),
        "list_payments": lambda: admin.list_payments(
            actor_id=actor_id, filters=admin.PaymentFilters()
        ),
        "webhook_log": lambda: admin.webhook_log(actor_id=actor_id, filters=admin.WebhookFilters()),
        "recent_failures": lambda: admin.recent_failures(
            actor_id=actor_id, filters=admin.FailureFilters()
        ),
        "audit_log": lambda: admin.audit_log(actor_id=actor_id, filters=admin.AuditFilters()),
        "overview": lambda: admin.overview(actor_id=actor_id, start=TODAY, end=TODAY),
        "export_csv": lambda: admin.export_csv(actor_id=actor_id, table="users", params={}),
    }


def test_every_public_admin_function_is_covered() -> None:
    """A new admin service function must be added to the access tests."""
    public = {
        name
        for name in admin.__all__
        if inspect.isfunction(getattr(admin, name))
        and "actor_id" in inspect.signature(getattr(admin, name)).parameters
    }
    assert public == set(every_admin_call(0, 0))


def test_a_normal_user_is_refused_every_admin_call_and_nothing_changes(database_url: str) -> None:
    caller = make_user(email="curious@example.com")
    target = make_user(email="target@example.com")
    give_credits(target, 3)
    for name, attempt in every_admin_call(caller, target).items():
        with pytest.raises(admin.NotStaff):
            attempt()
        assert name  # (the name shows in the failure report)
    with session_scope() as session:
        assert session.exec(select(AuditEntry)).all() == []
        user = session.get(User, target)
        assert user is not None
        assert (user.credit_balance, user.suspended_at, user.role) == (3, None, None)


def test_signed_out_deleted_and_suspended_callers_are_not_staff(database_url: str) -> None:
    target = make_user(email="target@example.com")
    for actor in (None, 999_999):
        with pytest.raises(admin.NotStaff):
            admin.find_users(actor_id=actor, filters=admin.UserFilters())  # type: ignore[arg-type]
    staff = make_staff("gone@example.com")
    with session_scope() as session:
        user = session.get(User, staff)
        assert user is not None
        user.suspended_at = user.created_at
        session.add(user)
    with pytest.raises(admin.NotStaff):
        admin.user_detail(actor_id=staff, user_id=target)


def test_support_sees_everything_and_adjusts_credits_but_no_more(database_url: str) -> None:
    support = make_staff("helper@example.com", role="support")
    target = make_user(email="target@example.com")
    allowed = {
        "find_users",
        "user_detail",
        "adjust_credits",
        "list_payments",
        "webhook_log",
        "recent_failures",
        "audit_log",
        "overview",
        "export_csv",
        "refund_preview",
    }
    for name, attempt in every_admin_call(support, target).items():
        if name in allowed:
            try:
                attempt()
            except admin.AdminActionRefused:
                pass  # refused for what was asked (no such payment), not for the role
            except Exception as exc:
                assert not isinstance(exc, admin.NotAllowed | admin.NotStaff), name
        else:
            with pytest.raises(admin.NotAllowed, match="Only admins"):
                attempt()


def test_support_adjustments_stay_within_the_daily_limit(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_app(monkeypatch, DATABASE_URL=database_url, ADREMIX_SUPPORT_CREDIT_LIMIT="30")
    support = make_staff("helper@example.com", role="support")
    boss = make_staff("boss@example.com")
    target = make_user(email="target@example.com")

    def adjust(actor: int, amount: int, key: str) -> admin.Adjusted:
        return admin.adjust_credits(
            actor_id=actor, user_id=target, amount=amount, reason="Goodwill", idempotency_key=key
        )

    adjust(support, 20, "support-one")
    adjust(support, -5, "support-two")  # deductions count too: 25 moved
    with pytest.raises(admin.AdminActionRefused, match="5 left"):
        adjust(support, 10, "support-three")
    assert adjust(support, 20, "support-one").repeated  # a repeat is not a new movement
    assert adjust(boss, 500, "admin-one").balance_after == 515  # admins have no limit


def test_roles_from_settings_and_from_grants(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_app(
        monkeypatch,
        DATABASE_URL=database_url,
        ADREMIX_ADMIN_EMAILS="boss@example.com",
        ADREMIX_SUPPORT_EMAILS="helper@example.com",
    )
    boss = make_user(email="boss@example.com")
    helper = make_user(email="helper@example.com")
    other = make_user(email="other@example.com")

    assert admin.find_users(actor_id=helper, filters=admin.UserFilters()).rows
    with pytest.raises(admin.NotAllowed):
        admin.set_role(actor_id=helper, user_id=other, role="support", reason="help")

    # An admin grants support in the console; it is audited with who and why.
    change = admin.set_role(actor_id=boss, user_id=other, role="support", reason="New hire")
    assert (change.role, change.changed) == ("support", True)
    assert admin.find_users(actor_id=other, filters=admin.UserFilters()).rows
    # A role the settings give cannot be revoked here, and nobody changes their own.
    with pytest.raises(admin.AdminActionRefused, match="ADREMIX_SUPPORT_EMAILS"):
        admin.set_role(actor_id=boss, user_id=helper, role="", reason="Left")
    with pytest.raises(admin.AdminActionRefused, match="your own role"):
        admin.set_role(actor_id=boss, user_id=boss, role="support", reason="Oops")
    admin.set_role(actor_id=boss, user_id=other, role="", reason="Left the team")
    with pytest.raises(admin.NotStaff):
        admin.find_users(actor_id=other, filters=admin.UserFilters())
    with session_scope() as session:
        entries = session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()  # type: ignore[arg-type]
    assert [(e.action, e.actor, e.reason, e.target_id) for e in entries] == [
        ("role_grant", "boss@example.com", "New hire", str(other)),
        ("role_revoke", "boss@example.com", "Left the team", str(other)),
    ]


def test_roles_commands_grant_and_revoke_and_are_audited(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    user = make_user(email="new.admin@example.com")
    assert cli(["roles", "grant", "New.Admin@example.com", "admin"]) == 0
    assert "now admin" in capsys.readouterr().out
    assert admin.find_users(actor_id=user, filters=admin.UserFilters()).rows
    assert cli(["roles", "revoke", "new.admin@example.com", "support"]) == 1
    assert "not support" in capsys.readouterr().err
    assert cli(["roles", "revoke", "new.admin@example.com", "admin"]) == 0
    assert cli(["roles", "grant", "nobody@example.com", "admin"]) == 1
    with pytest.raises(admin.NotStaff):
        admin.find_users(actor_id=user, filters=admin.UserFilters())
    with session_scope() as session:
        entries = session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()  # type: ignore[arg-type]
    assert [(e.action, e.actor, e.actor_id) for e in entries] == [
        ("role_grant", "command line", None),
        ("role_revoke", "command line", None),
    ]


def test_suspension_ends_sessions_refuses_sign_in_and_keeps_the_data(database_url: str) -> None:
    boss = make_staff("boss@example.com")
    identity = VerifiedIdentity(email="maya@example.com", name="Maya", subject="sub-maya")
    token = accounts.sign_in(identity=identity)
    user = accounts.signed_in_user(token=token)
    assert user is not None and user.credit_balance == get_settings().signup_bonus

    done = admin.set_suspension(actor_id=boss, user_id=user.id, suspended=True, reason="Fraud")
    assert (done.suspended, done.sessions_ended) == (True, 1)
    assert accounts.signed_in_user(token=token) is None
    with pytest.raises(SignInRefused) as refused:
        accounts.sign_in(identity=identity)
    assert refused.value.code == "account_suspended"
    assert accounts.refusal_code(refused.value) == "account_suspended"
    assert "suspended" in accounts.SIGN_IN_ERRORS["account_suspended"]
    with pytest.raises(admin.AdminActionRefused, match="your own account"):
        admin.set_suspension(actor_id=boss, user_id=boss, suspended=True, reason="Test")

    restored = admin.set_suspension(
        actor_id=boss, user_id=user.id, suspended=False, reason="Cleared"
    )
    assert restored.changed and not restored.suspended
    again = accounts.sign_in(identity=identity)
    back = accounts.signed_in_user(token=again)
    assert back is not None and back.credit_balance == user.credit_balance  # nothing lost
    with session_scope() as session:
        revoked = session.exec(select(AuthSession).where(AuthSession.user_id == user.id)).all()
        actions = session.exec(select(AuditEntry.action).order_by(AuditEntry.seq)).all()  # type: ignore[arg-type]
    assert len(revoked) == 2
    assert actions == ["suspend", "unsuspend"]


def test_actions_need_a_reason(database_url: str) -> None:
    boss = make_staff("boss@example.com")
    target = make_user(email="target@example.com")
    with pytest.raises(admin.AdminActionRefused, match="reason"):
        admin.adjust_credits(
            actor_id=boss, user_id=target, amount=5, reason="   ", idempotency_key="k" * 20
        )
    with pytest.raises(admin.AdminActionRefused, match="reason"):
        admin.set_suspension(actor_id=boss, user_id=target, suspended=True, reason="")
