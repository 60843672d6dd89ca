"""Account page, billing profile: who tax invoices are made out to (GSTIN checked)."""

from __future__ import annotations

import reflex as rx

from adremix.blocking import call
from adremix.services import billing
from adremix.state.errors import error_toast
from adremix.state.session import current_user_id

FIELDS = ("legal_name", "address_line1", "address_line2", "city", "pin_code", "state_code", "gstin")


class BillingProfileState(rx.State):
    legal_name: str = ""
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    pin_code: str = ""
    state_code: str = ""
    gstin: str = ""
    # Field name -> what is wrong with it, shown under the field.
    problems: dict[str, str] = {}
    saving: bool = False
    saved: bool = False  # a profile exists (invoices use it)

    @rx.event
    async def load(self) -> None:
        user_id = await current_user_id(self)
        if user_id is None:
            return
        details = await call(billing.billing_details, user_id=user_id)
        self._show(details or billing.BillingDetails())
        self.saved = details is not None
        self.problems = {}

    def _show(self, details: billing.BillingDetails) -> None:
        for field in FIELDS:
            setattr(self, field, getattr(details, field))

    @rx.event
    def set_state_code(self, value: str) -> None:
        self.state_code = value

    @rx.event
    async def save(self, form: dict):  # type: ignore[no-untyped-def]
        user_id = await current_user_id(self)
        if user_id is None:
            return
        values = {field: str(form.get(field, getattr(self, field)) or "") for field in FIELDS}
        values["state_code"] = self.state_code  # the Select is not a native form field
        self.saving = True
        yield  # the button shows it is saving
        try:
            saved = await call(
                billing.save_billing_details,
                user_id=user_id,
                details=billing.BillingDetails(**values),
            )
        except billing.InvalidBillingProfile as exc:
            self._show(billing.BillingDetails(**values))
            self.problems = exc.problems
            yield rx.toast.error("Please correct the billing details marked below.")
            return
        except Exception as exc:
            yield error_toast(self, exc)
            return
        finally:
            self.saving = False
        self._show(saved)
        self.problems = {}
        self.saved = True
        yield rx.toast.success("Billing details saved: your next invoices use them.")
