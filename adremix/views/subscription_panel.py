"""Credits page, subscriptions: plans beside the packs, the buyer's subscription with its
actions, the failed-payment banner, and the test checkout for a subscription."""

from __future__ import annotations

import reflex as rx

from adremix.components.dialog_focus import returns_focus
from adremix.components.one_press import one_press_button
from adremix.state.credits import CreditsState
from adremix.state.subscriptions import SubscriptionState

SUBSCRIPTION = CreditsState.subscription


def _has_subscription() -> rx.Var:
    return SUBSCRIPTION.contains("id")


def payment_update_banner() -> rx.Component:
    """A renewal failed (pending: Razorpay retries; halted: it gave up)."""
    return rx.cond(
        SUBSCRIPTION.get("needs_update", "") == "yes",
        rx.callout(
            rx.vstack(
                rx.text(
                    "The last renewal payment for your ",
                    SUBSCRIPTION.get("plan", ""),
                    " subscription failed, so no credits were added for this cycle.",
                    weight="medium",
                ),
                rx.hstack(
                    rx.cond(
                        SUBSCRIPTION.get("update_url", "") != "",
                        rx.link(
                            "Update your payment method →",
                            href=SUBSCRIPTION.get("update_url", ""),
                            is_external=True,
                            weight="bold",
                            high_contrast=True,
                            id="update-payment-method",
                        ),
                        rx.text(
                            "Use the link in Razorpay's e-mail to update your payment method.",
                            id="update-payment-method",
                        ),
                    ),
                    rx.text("Razorpay retries the charge once the card works.", size="1"),
                    wrap="wrap",
                    spacing="2",
                ),
                spacing="1",
            ),
            icon="credit-card",
            color_scheme="red",
            high_contrast=True,  # red text reaches 4.5:1 only in high contrast
            width="100%",
            id="subscription-banner",
        ),
    )


def plan_card(plan: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(plan["name"], as_="h3", size="4"),
                rx.spacer(),
                rx.badge("Renews every ", plan["period"], color_scheme="iris", high_contrast=True),
                width="100%",
            ),
            rx.hstack(
                rx.text(plan["price"], size="7", weight="bold"),
                rx.text("/ ", plan["period"], color_scheme="gray"),
                align="baseline",
                spacing="2",
            ),
            rx.text(
                plan["credits"],
                " credits a ",
                plan["period"],
                " · ",
                plan["per_credit"],
                " per credit",
            ),
            one_press_button(
                "Subscribe",
                on_press=SubscriptionState.subscribe(plan["code"]),
                ack=SubscriptionState.subscribe_ack,
                busy=SubscriptionState.subscribing_code == plan["code"],
                busy_label="Opening checkout…",
                disabled=SubscriptionState.paying,
                width="100%",
                size="3",
                variant="soft",
                id="subscribe-" + plan["code"].to(str),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _plan_choice(plan: rx.Var) -> rx.Component:
    return rx.select.item(
        plan["name"], " (", plan["price"], " / ", plan["period"], ")", value=plan["code"]
    )


def change_plan_form() -> rx.Component:
    return rx.hstack(
        rx.select.root(
            rx.select.trigger(placeholder="Choose a plan", aria_label="New plan", id="new-plan"),
            rx.select.content(rx.foreach(CreditsState.plans, _plan_choice)),
            value=SubscriptionState.new_plan,
            on_change=SubscriptionState.set_new_plan,
        ),
        rx.button(
            "Change plan",
            variant="soft",
            loading=SubscriptionState.acting == "change",
            disabled=(SubscriptionState.new_plan == "")
            | (SubscriptionState.new_plan == SUBSCRIPTION.get("plan_code", "")),
            on_click=SubscriptionState.change_plan(SubscriptionState.new_plan),
            id="change-plan",
        ),
        wrap="wrap",
        align="center",
    )


def cancel_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(
                "Cancel subscription",
                color_scheme="red",
                high_contrast=True,
                variant="soft",
                id="cancel-subscription",
            )
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Cancel your subscription?"),
            rx.alert_dialog.description(
                "You keep every credit you have. Cancelling cannot be undone: to subscribe "
                "again later you start a new subscription.",
                size="2",
            ),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Keep it", variant="soft", color_scheme="gray")),
                rx.cond(
                    SUBSCRIPTION.get("status_key", "") == "active",
                    rx.button(
                        "At the end of this cycle",
                        variant="soft",
                        loading=SubscriptionState.acting == "cancel",
                        on_click=SubscriptionState.cancel(True),
                        id="cancel-at-cycle-end",
                    ),
                ),
                rx.button(
                    "Cancel now",
                    color_scheme="red",
                    high_contrast=True,  # white on solid red is 3.9:1
                    loading=SubscriptionState.acting == "cancel",
                    on_click=SubscriptionState.cancel(False),
                    id="cancel-now",
                ),
                spacing="3",
                justify="end",
                wrap="wrap",
                margin_top="1rem",
            ),
        ),
        open=SubscriptionState.cancel_open,
        on_open_change=SubscriptionState.set_cancel_open,
    )


def test_mode_tools() -> rx.Component:
    return rx.cond(
        SUBSCRIPTION.get("test_mode", "") == "yes",
        rx.hstack(
            rx.badge("Test mode", color_scheme="amber", high_contrast=True),
            rx.button(
                "Simulate renewal",
                size="1",
                variant="outline",
                loading=SubscriptionState.acting == "renewal",
                on_click=SubscriptionState.simulate("renewal"),
                id="simulate-renewal",
            ),
            rx.button(
                "Simulate failed renewal",
                size="1",
                variant="outline",
                color_scheme="red",
                high_contrast=True,
                loading=SubscriptionState.acting == "failure",
                on_click=SubscriptionState.simulate("failure"),
                id="simulate-failure",
            ),
            wrap="wrap",
            align="center",
        ),
    )


def subscription_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.vstack(
                    rx.text("Your subscription", size="2", color_scheme="gray"),
                    rx.heading(SUBSCRIPTION.get("plan", ""), as_="h3", size="6"),
                    spacing="1",
                ),
                rx.spacer(),
                rx.badge(
                    SUBSCRIPTION.get("status", ""),
                    color_scheme=rx.cond(
                        SUBSCRIPTION.get("needs_update", "") == "yes", "red", "grass"
                    ),
                    high_contrast=True,
                    size="2",
                    id="subscription-status",
                ),
                width="100%",
                align="center",
            ),
            rx.text(
                SUBSCRIPTION.get("credits", ""),
                " credits each cycle · ",
                SUBSCRIPTION.get("price", ""),
                size="2",
            ),
            rx.text(SUBSCRIPTION.get("renewal", ""), size="2", id="subscription-renewal"),
            rx.cond(SUBSCRIPTION.get("can_change", "") == "yes", change_plan_form()),
            rx.hstack(
                rx.cond(
                    SUBSCRIPTION.get("can_pause", "") == "yes",
                    rx.button(
                        "Pause",
                        variant="soft",
                        loading=SubscriptionState.acting == "pause",
                        on_click=SubscriptionState.pause,
                        id="pause-subscription",
                    ),
                ),
                rx.cond(
                    SUBSCRIPTION.get("can_resume", "") == "yes",
                    rx.button(
                        "Resume",
                        loading=SubscriptionState.acting == "resume",
                        on_click=SubscriptionState.resume,
                        id="resume-subscription",
                    ),
                ),
                rx.cond(SUBSCRIPTION.get("can_cancel", "") == "yes", cancel_dialog()),
                wrap="wrap",
                spacing="3",
            ),
            test_mode_tools(),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="subscription-card",
    )


def subscription_checkout_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.vstack(
                rx.hstack(
                    rx.dialog.title("Test checkout: subscription", margin="0"),
                    rx.badge("Test mode", color_scheme="amber", high_contrast=True),
                    align="center",
                ),
                rx.dialog.description(
                    "Razorpay isn't configured, so this stands in for it. The first cycle is "
                    "charged now; renewals are simulated from this page. No money moves.",
                    size="2",
                ),
                rx.card(rx.text(SubscriptionState.checkout_summary, weight="medium"), width="100%"),
                rx.hstack(
                    rx.button(
                        "Cancel",
                        variant="soft",
                        color_scheme="gray",
                        on_click=SubscriptionState.close_checkout,
                        disabled=SubscriptionState.paying,
                    ),
                    rx.spacer(),
                    one_press_button(
                        "Fail payment",
                        variant="outline",
                        on_press=SubscriptionState.test_checkout_pay(False),
                        ack=SubscriptionState.pay_ack,
                        busy_label="Failing…",
                        disabled=SubscriptionState.paying,
                        id="test-subscription-fail",
                    ),
                    one_press_button(
                        "Pay and subscribe",
                        on_press=SubscriptionState.test_checkout_pay(True),
                        ack=SubscriptionState.pay_ack,
                        busy=SubscriptionState.paying,
                        busy_label="Paying…",
                        id="test-subscription-pay",
                    ),
                    width="100%",
                ),
                spacing="4",
            ),
            max_width="28rem",
            **returns_focus(),
        ),
        open=SubscriptionState.checkout_open,
        # Escape and a click outside close it like Cancel does (not while a payment runs).
        on_open_change=lambda open_: rx.cond(
            open_ | SubscriptionState.paying, rx.noop(), SubscriptionState.close_checkout()
        ),
    )


def subscription_section() -> rx.Component:
    return rx.vstack(
        rx.heading("Subscribe and save", as_="h2", size="5"),
        rx.cond(
            _has_subscription(),
            subscription_card(),
            rx.grid(
                rx.foreach(CreditsState.plans, plan_card),
                columns=rx.breakpoints(initial="1", sm="2", md="3"),
                spacing="4",
                width="100%",
            ),
        ),
        rx.text(
            "Credits from every renewal are yours to keep, even after you cancel. Cancel, "
            "pause or change plan here at any time.",
            size="1",
            color_scheme="gray",
        ),
        subscription_checkout_dialog(),
        width="100%",
        spacing="3",
        id="subscriptions",
    )
