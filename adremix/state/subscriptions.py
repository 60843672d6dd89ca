"""Credits page, subscriptions: subscribe (Razorpay Checkout or the test checkout), cancel,
pause, resume, change plan and, in test mode, simulated renewals. What is shown lives in
CreditsState (one overview call); every action here ends by refreshing it."""

from __future__ import annotations

import json

import reflex as rx

from adremix.blocking import call
from adremix.enums import CheckoutMode, CheckoutResult, LimitedAction
from adremix.services import payments
from adremix.services.credits import format_inr
from adremix.state.credits import CHECKOUT_JS, CreditsState
from adremix.state.errors import error_toast, user_message
from adremix.state.limits import RateLimited, count_attempt
from adremix.state.session import SessionState, current_user_id


class SubscriptionState(rx.State):
    subscribing_code: str = ""
    subscribe_ack: int = 0
    checkout_open: bool = False
    checkout_id: str = ""
    checkout_summary: str = ""
    paying: bool = False
    pay_ack: int = 0
    # The action under way ("cancel", "pause", ...), so its button shows it is busy.
    acting: str = ""
    cancel_open: bool = False
    new_plan: str = ""

    @rx.event(background=True)
    async def subscribe(self, plan_code: str):  # type: ignore[no-untyped-def]
        async with self:
            user_id = await current_user_id(self)
        try:
            # A subscription is an order at Razorpay: counted with Buy's presses, first.
            await count_attempt(self, LimitedAction.ORDER, user_id)
        except RateLimited as exc:
            async with self:
                self.subscribe_ack += 1
                toast = error_toast(self, exc)
            yield toast
            return
        async with self:
            if self.subscribing_code or self.paying:
                return
            self.subscribing_code = plan_code
            session_state = await self.get_state(SessionState)
            name, email = session_state.user_name, session_state.user_email
        try:
            if user_id is None:
                return
            checkout = await call(payments.start_subscription, user_id=user_id, plan_code=plan_code)
        except Exception as exc:
            async with self:
                toast = error_toast(self, exc)
            yield toast
            return
        finally:
            async with self:
                self.subscribing_code = ""
                self.subscribe_ack += 1
        async with self:
            self.checkout_id = checkout.subscription_id
            self.checkout_summary = (
                f"{checkout.plan_name}: {checkout.credits} credits every {checkout.period} for "
                f"{format_inr(checkout.amount_paise, always_paise=True)}"
            )
            if checkout.mode == CheckoutMode.TEST:
                self.checkout_open = True
                return
        options = {
            "key": checkout.key_id,
            "subscription_id": checkout.subscription_id,
            "name": "AdRemix",
            "description": f"{checkout.plan_name}: {checkout.credits} credits a {checkout.period}",
            "prefill": {"name": name, "email": email},
            "theme": {"color": "#6e56cf"},
        }
        yield rx.call_script(
            CHECKOUT_JS.replace("OPTIONS", json.dumps(options)),
            callback=SubscriptionState.checkout_finished,
        )

    @rx.event(background=True)
    async def checkout_finished(self, result: dict):  # type: ignore[no-untyped-def]
        status = (result or {}).get("status")
        async with self:
            user_id = await current_user_id(self)
            subscription_id = self.checkout_id
        if user_id is None:
            return
        if status == CheckoutResult.SUCCESS:
            async for event in self._confirm(
                payments.confirm_subscription_checkout,
                user_id=user_id,
                subscription_id=str(result.get("razorpay_subscription_id") or subscription_id),
                payment_id=str(result.get("razorpay_payment_id") or ""),
                signature=str(result.get("razorpay_signature") or ""),
            ):
                yield event
        elif status == CheckoutResult.FAILED:
            yield rx.toast.error(
                f"Payment failed: {result.get('reason') or ''} Nothing was charged."
            )
        elif status == CheckoutResult.UNAVAILABLE:
            yield rx.toast.error(
                f"{result.get('reason')} Please check your connection and try again."
            )
        else:
            yield rx.toast.info("Checkout closed. Nothing was charged.")

    async def _confirm(self, service, **values):  # type: ignore[no-untyped-def]
        async with self:
            self.paying = True
        try:
            view = await call(service, **values)
        except Exception as exc:
            async with self:
                self.paying = False
                self.pay_ack += 1
                self.checkout_open = False
                toast = error_toast(self, exc)
            yield toast
            yield CreditsState.refresh
            return
        async with self:
            self.paying = False
            self.pay_ack += 1
            self.checkout_open = False
        yield CreditsState.refresh
        yield SessionState.refresh_balance
        yield rx.toast.success(
            f"Subscribed to {view.plan_name}: {view.credits} credits added; "
            "every renewal adds more."
        )

    @rx.event(background=True)
    async def test_checkout_pay(self, succeed: bool):  # type: ignore[no-untyped-def]
        """The test checkout's Pay / Fail for a subscription."""
        async with self:
            if self.paying:
                return
            user_id = await current_user_id(self)
            subscription_id = self.checkout_id
        if user_id is None:
            return
        async for event in self._confirm(
            payments.pay_test_subscription,
            user_id=user_id,
            subscription_id=subscription_id,
            succeed=succeed,
        ):
            yield event

    @rx.event
    def close_checkout(self) -> rx.event.EventSpec:
        self.checkout_open = False
        return rx.toast.info("Checkout closed. Nothing was charged.")

    @rx.event
    def set_cancel_open(self, value: bool) -> None:
        self.cancel_open = value

    @rx.event
    def set_new_plan(self, value: str) -> None:
        self.new_plan = value

    async def _act(self, name: str, service, done: str, **values):  # type: ignore[no-untyped-def]
        async with self:
            if self.acting:
                return
            self.acting = name
            user_id = await current_user_id(self)
        try:
            if user_id is None:
                return
            await call(service, user_id=user_id, **values)
        except Exception as exc:
            async with self:
                toast = error_toast(self, exc)
            yield toast
        else:
            yield rx.toast.success(done)
        finally:
            async with self:
                self.acting = ""
                self.cancel_open = False
        yield CreditsState.refresh

    @rx.event(background=True)
    async def cancel(self, at_cycle_end: bool):  # type: ignore[no-untyped-def]
        done = (
            "Your subscription ends with the current cycle; you keep every credit."
            if at_cycle_end
            else "Subscription cancelled; you keep every credit."
        )
        async for event in self._act(
            "cancel", payments.cancel_subscription, done, at_cycle_end=at_cycle_end
        ):
            yield event

    @rx.event(background=True)
    async def pause(self):  # type: ignore[no-untyped-def]
        async for event in self._act(
            "pause",
            payments.pause_subscription,
            "Subscription paused: no charges until you resume.",
        ):
            yield event

    @rx.event(background=True)
    async def resume(self):  # type: ignore[no-untyped-def]
        async for event in self._act(
            "resume", payments.resume_subscription, "Subscription resumed."
        ):
            yield event

    @rx.event(background=True)
    async def change_plan(self, plan_code: str):  # type: ignore[no-untyped-def]
        async for event in self._act(
            "change",
            payments.change_subscription_plan,
            "Plan change scheduled for your next renewal.",
            plan_code=plan_code,
        ):
            yield event

    @rx.event(background=True)
    async def simulate(self, what: str):  # type: ignore[no-untyped-def]
        """Test mode: Razorpay renews the subscription now, or the renewal fails."""
        async with self:
            if self.acting:
                return
            self.acting = what
            subscription = (await self.get_state(CreditsState)).subscription
        try:
            simulated = await call(
                payments.simulate_renewal,
                subscription_id=subscription.get("id", ""),
                succeed=what == "renewal",
            )
        except Exception as exc:
            yield rx.toast.error(user_message(exc))
        else:
            outcomes = ", ".join(f"{event}: {outcome}" for event, outcome in simulated.events)
            yield rx.toast.info(f"Simulated {outcomes}")
        finally:
            async with self:
                self.acting = ""
        yield CreditsState.refresh
        yield SessionState.refresh_balance
