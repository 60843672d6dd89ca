"""The one way async code runs blocking work: in a worker thread, never on the event loop.

Services are synchronous (SQLAlchemy sessions, Pillow, file I/O, the Razorpay SDK); an
async handler that called them directly would stall every other user's events for as
long as the database or the disk took. State events, HTTP routes and the generation
runner all write `await call(fn, ...)`, which hands the call to a thread and gives its
result (or its exception) back.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, TypeVar

T = TypeVar("T")


async def call(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run `fn(*args, **kwargs)` in a worker thread and return what it returns."""
    return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))


async def call_in(executor: Executor, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """`call`, on threads of the caller's own `executor`: for work that must not wait
    behind a burst of other calls in the shared pool (the job worker's upkeep)."""
    loop = asyncio.get_running_loop()
    bound = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    return await loop.run_in_executor(executor, bound)
