"""The one way async code runs blocking work: in a worker thread, never on the event loop.

Services are synchronous (SQLAlchemy sessions, Pillow, file I/O, the Razorpay SDK); an
async handler that called them directly would stall every other user's events for as
long as the database or the disk took. State events, HTTP routes and the generation
runner all write `await call(fn, ...)`, which hands the call to a thread and gives its
result (or its exception) back.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def call(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run `fn(*args, **kwargs)` in a worker thread and return what it returns."""
    return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))
