"""Rate limits for websocket events: the attempt is counted before the event does anything,
per client IP and per user; over the limit, `RateLimited` (a UserFacingError) says in the
toast when to try again."""

from __future__ import annotations

import reflex as rx

from adremix.enums import LimitedAction
from adremix.services.rate_limits import RateLimited, hit_rate_limit

__all__ = ["RateLimited", "count_attempt"]


async def count_attempt(state: rx.State, action: LimitedAction, user_id: int | None) -> None:
    """Count one attempt of `action` from this tab's client; raises RateLimited when over."""
    await hit_rate_limit(action, ip=state.router.session.client_ip or "unknown", user=user_id)
