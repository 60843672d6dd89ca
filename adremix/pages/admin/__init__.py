"""The admin console's pages (staff only: see api/admin_gate.py and state/admin/)."""

from adremix.pages.admin import audit, failures, overview, payments, user, users, webhooks

__all__ = ["audit", "failures", "overview", "payments", "user", "users", "webhooks"]
