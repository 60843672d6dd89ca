"""Property: whatever mix of captures, duplicate captures, partial refunds (delivered late,
out of order or twice) and spending happens, clawbacks follow the rule exactly, never take
more than was granted, and the ledger verifies."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select
from starlette.testclient import TestClient

from adremix.__main__ import main as cli
from adremix.api import build_api_app
from adremix.db import session_scope
from adremix.models import Payment, PaymentOrder
from adremix.services import credits
from adremix.settings import DEFAULT_PACKAGES, get_settings
from tests.factories import balance, buy, confirm, give_credits, make_user
from tests.fakes.razorpay_api import FakeRazorpay, webhook_body
from tests.razorpay_steps import post_webhook, send_captured_event

PACKS = {p.code: p for p in DEFAULT_PACKAGES}
BONUS = 5
users = itertools.count()
events = itertools.count()  # event ids unique across examples, which share one database

step = st.one_of(
    st.tuples(st.just("buy"), st.sampled_from(sorted(PACKS)), st.booleans()),
    st.tuples(st.just("refund"), st.integers(0, 7), st.integers(1, 100), st.booleans()),
    st.tuples(st.just("spend"), st.integers(1, 60)),
    st.tuples(st.just("late_capture"), st.integers(0, 7)),
    st.tuples(st.just("deliver"), st.booleans()),
)


@dataclass
class Story:
    """What the test itself knows happened, independently of the app's bookkeeping."""

    user_id: int
    spent: int = 0
    bought_credits: int = 0
    # payment id -> (credits it should grant, amount, processed refunds in paise)
    payments: dict[str, list[int]] = field(default_factory=dict)
    failed_attempts: list[str] = field(default_factory=list)
    queued: list[bytes] = field(default_factory=list)
    delivered: list[tuple[bytes, str]] = field(default_factory=list)


def deliver(client: TestClient, story: Story, body: bytes) -> None:
    event_id = f"evt_property_{next(events)}"
    post_webhook(client, body, event_id)
    story.delivered.append((body, event_id))


def refund_event(razorpay: FakeRazorpay, refund: dict[str, Any]) -> bytes:
    return webhook_body(
        "refund.processed", refund=refund, payment=razorpay.payment(refund["payment_id"])
    )[0]


def play(razorpay: FakeRazorpay, client: TestClient, story: Story, action: tuple) -> None:
    kind = action[0]
    if kind == "buy":
        _, code, failed_first = action
        checkout = buy(story.user_id, code)
        if failed_first:
            failed = razorpay.checkout_payment(checkout.provider_order_id, status="failed")
            story.failed_attempts.append(failed["razorpay_payment_id"])
        paid = razorpay.checkout_payment(checkout.provider_order_id, status="captured")
        confirm(story.user_id, paid)
        story.payments[paid["razorpay_payment_id"]] = [
            PACKS[code].credits,
            razorpay.payment(paid["razorpay_payment_id"])["amount"],
            0,
        ]
        story.bought_credits += PACKS[code].credits
    elif kind == "refund":
        _, pick, percent, late = action
        open_ = [
            pid
            for pid, (_, amount, _) in story.payments.items()
            if amount - razorpay.payment(pid)["amount_refunded"] >= 100
        ]
        if not open_:
            return
        pid = open_[pick % len(open_)]
        left = story.payments[pid][1] - razorpay.payment(pid)["amount_refunded"]
        amount = min(left, max(100, left * percent // 100))
        body = refund_event(razorpay, razorpay.dashboard_refund(pid, amount))
        story.payments[pid][2] += amount
        if late:
            story.queued.append(body)
        else:
            deliver(client, story, body)
    elif kind == "spend":
        take = min(action[1], balance(story.user_id))
        if take:
            with session_scope() as session:
                credits.spend(
                    session=session,
                    user_id=story.user_id,
                    amount=take,
                    idempotency_key=f"spend:{story.user_id}:{story.spent}:{take}",
                )
            story.spent += take
    elif kind == "late_capture":
        if not story.failed_attempts:
            return
        pid = story.failed_attempts.pop(action[1] % len(story.failed_attempts))
        razorpay.late_authorize(pid, captured=True)
        send_captured_event(client, razorpay, pid)  # the app refunds it in full
        story.payments[pid] = [0, razorpay.payment(pid)["amount"], 0]
        (refund,) = [r for r in razorpay.refunds.values() if r["payment_id"] == pid]
        story.payments[pid][2] = refund["amount"]
        story.queued.append(refund_event(razorpay, refund))
    elif kind == "deliver":
        # Late webhooks arrive newest first, and Razorpay may redeliver an old one.
        for body in reversed(story.queued):
            deliver(client, story, body)
        story.queued.clear()
        if action[1] and story.delivered:
            body, event_id = story.delivered[0]
            post_webhook(client, body, event_id)


@pytest.fixture
def client(razorpay: FakeRazorpay) -> TestClient:
    return TestClient(build_api_app(get_settings()))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=st.lists(step, min_size=1, max_size=10))
def test_clawbacks_follow_the_rule_whatever_happens(
    razorpay: FakeRazorpay, client: TestClient, database_url: str, actions: list[tuple]
) -> None:
    story = Story(user_id=make_user(email=f"p{next(users)}@example.com"))
    give_credits(story.user_id, BONUS)
    for action in actions:
        play(razorpay, client, story, action)
    play(razorpay, client, story, ("deliver", True))

    with session_scope() as session:
        rows = session.exec(
            select(Payment)
            .join(PaymentOrder, PaymentOrder.id == Payment.order_id)
            .where(PaymentOrder.user_id == story.user_id, Payment.captured.is_(True))  # type: ignore[attr-defined]
        ).all()
    assert {row.provider_payment_id for row in rows} == set(story.payments)
    clawed = 0
    for row in rows:
        granted, amount, refunded = story.payments[row.provider_payment_id]
        assert (row.credits_granted, row.refunded_paise) == (granted, refunded)
        owed = granted * refunded // amount  # the rule, computed here on its own
        assert row.credits_clawed + row.clawback_shortfall == owed <= granted
        clawed += row.credits_clawed
    assert balance(story.user_id) == BONUS + story.bought_credits - clawed - story.spent >= 0
    assert cli(["ledger", "verify"]) == 0
