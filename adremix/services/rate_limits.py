"""Abuse limits, per client IP and per user, counted by the `limits` library.

Counters live in process memory, or in Redis when `ADREMIX_REDIS_URL` is set (needed once
several workers serve the app). A caller hits the limit first, before any other check,
so refused attempts (a bad CSRF token, an unknown e-mail, a forged signature) count too.
Moving windows: a burst cannot double up across a window boundary.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from adremix.enums import LimitedAction
from adremix.services.errors import UserFacingError
from adremix.settings import Settings, get_settings


@dataclass(frozen=True)
class Limit:
    per_ip: str
    per_user: str


# The numbers the README's Security section lists. Per IP is looser: offices share one.
LIMITS: dict[LimitedAction, Limit] = {
    LimitedAction.SIGN_IN: Limit(per_ip="20/minute;200/hour", per_user="5/minute;30/hour"),
    LimitedAction.ORDER: Limit(per_ip="30/minute;300/hour", per_user="10/minute;60/hour"),
    LimitedAction.GENERATION: Limit(per_ip="60/minute;1000/hour", per_user="20/minute;300/hour"),
    LimitedAction.UPLOAD: Limit(per_ip="60/minute;600/hour", per_user="20/minute;200/hour"),
    LimitedAction.EXPORT: Limit(per_ip="60/minute;600/hour", per_user="30/minute;300/hour"),
    # "Suggest copy" is free to the user but costs a text-model call each.
    LimitedAction.COPY: Limit(per_ip="30/minute;300/hour", per_user="10/minute;100/hour"),
}


class RateLimited(UserFacingError):
    """Too many attempts of one action; `retry_after` is in whole seconds."""

    def __init__(self, action: LimitedAction, retry_after: int) -> None:
        self.action = action
        self.retry_after = max(1, retry_after)
        super().__init__(f"Too many attempts. Please try again in {_in_words(self.retry_after)}.")


def _in_words(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes"


class RateLimiter:
    def __init__(self, storage_url: str) -> None:
        if storage_url:
            # redis-py (a Reflex dependency) rather than limits' default coredis.
            storage = storage_from_string(
                "async+" + storage_url, implementation="redispy", key_prefix="adremix"
            )
        else:
            storage = storage_from_string("async+memory://")
        self._strategy = MovingWindowRateLimiter(storage)  # type: ignore[arg-type]
        self._items = {
            action: (parse_many(limit.per_ip), parse_many(limit.per_user))
            for action, limit in LIMITS.items()
        }

    async def hit(self, action: LimitedAction, *, ip: str, user: str | int | None) -> None:
        """Count one attempt; raise RateLimited if it is over any of the action's limits."""
        per_ip, per_user = self._items[action]
        checks: list[tuple[RateLimitItem, str]] = [(item, f"ip:{ip}") for item in per_ip]
        if user not in (None, ""):
            checks += [(item, f"user:{user}") for item in per_user]
        retry_after = 0
        for item, key in checks:
            if not await self._strategy.hit(item, action.value, key):
                stats = await self._strategy.get_window_stats(item, action.value, key)
                retry_after = max(retry_after, math.ceil(stats.reset_time - time.time()))
        if retry_after:
            raise RateLimited(action, retry_after)


_current: tuple[Settings, RateLimiter] | None = None


def rate_limiter() -> RateLimiter:
    """The process's limiter, made for the settings in force (tests change them)."""
    global _current
    settings = get_settings()
    if _current is None or _current[0] is not settings:
        _current = (settings, RateLimiter(settings.redis_url))
    return _current[1]


async def hit_rate_limit(action: LimitedAction, *, ip: str, user: str | int | None) -> None:
    """Count one attempt of `action` from `ip` by `user`; raises RateLimited when over."""
    await rate_limiter().hit(action, ip=ip, user=user)
