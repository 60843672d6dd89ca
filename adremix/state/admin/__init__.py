"""The admin console's states. Every event checks on the server that the tab's user is
staff (`staff_id`), the websocket guard refuses admin events from anyone else before a
handler runs (state/guard.py), and the services check the role again in their own
transaction. Hiding a button is never the check."""

from adremix.state.admin.base import AdminState, staff_id

__all__ = ["AdminState", "staff_id"]
