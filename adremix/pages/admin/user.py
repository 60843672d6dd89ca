"""One user: profile, balance, ledger, orders and payments, generations, sessions, and
the actions staff take (credits, refunds, suspension, role)."""

import reflex as rx

from adremix import urls
from adremix.components.admin_shell import admin_page, loading_note
from adremix.components.empty_state import empty_state
from adremix.state.admin.user import AdminUserState as S
from adremix.views.admin_user import (
    actions,
    adjust_dialog,
    audit_section,
    generations_section,
    ledger_section,
    payments_section,
    profile_card,
    refund_dialog,
    role_dialog,
    sessions_section,
    suspend_dialog,
)


@admin_page(route="/admin/users/[account_id]", title="User", on_load=[S.load])
def user() -> rx.Component:
    return rx.vstack(
        rx.link("← All users", href=urls.ADMIN_USERS, size="2"),
        loading_note(S.loading),
        rx.cond(
            S.found,
            rx.vstack(
                profile_card(),
                actions(),
                payments_section(),
                ledger_section(),
                generations_section(),
                sessions_section(),
                audit_section(),
                adjust_dialog(),
                refund_dialog(),
                suspend_dialog(),
                role_dialog(),
                spacing="5",
                width="100%",
            ),
            rx.cond(
                ~S.loading, empty_state("user-x", "No such user", "There is no user with this id.")
            ),
        ),
        spacing="4",
        width="100%",
    )
