"""The one way state runs a service: in a worker thread, never on the event loop.

Services are synchronous (SQLAlchemy sessions, Pillow, file I/O, the Razorpay SDK); an
async event handler that called them directly would stall every other user's events for
as long as the database or the disk took. `await call(service_fn, **kwargs)` hands the
call to a thread and gives its result (or its exception) back to the handler.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def call(service: Callable[..., T], /, **kwargs: Any) -> T:
    """Run `service(**kwargs)` in a worker thread and return what it returns."""
    return await asyncio.to_thread(functools.partial(service, **kwargs))
