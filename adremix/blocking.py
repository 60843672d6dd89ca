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
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from typing import Any, Generic, TypeVar

T = TypeVar("T")
Item = TypeVar("Item")
R = TypeVar("R")


async def call(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run `fn(*args, **kwargs)` in a worker thread and return what it returns."""
    return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))


async def call_in(executor: Executor, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """`call`, on threads of the caller's own `executor`: for work that must not wait
    behind a burst of other calls in the shared pool (the job worker's upkeep)."""
    loop = asyncio.get_running_loop()
    bound = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    return await loop.run_in_executor(executor, bound)


class CoalescedAsync(Generic[Item, R]):
    """Calls of `run_many` (one round trip for a list of items: a transaction, a Redis
    command), shared: an item that arrives while a batch is on its way goes with the
    next one. The first waits for nobody; under a burst, many items cost one round trip
    instead of one each. `run_many` answers each item, in order, with its result or the
    exception that item alone should raise. One instance per event loop."""

    def __init__(self, run_many: Callable[[list[Item]], Awaitable[list[R | Exception]]]) -> None:
        self._run_many = run_many
        self._waiting: list[tuple[Item, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def __call__(self, item: Item) -> R:
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())
        # Shielded: the item is written even if its waiter is cancelled meanwhile (an
        # outcome, once known, is kept), and the batch is not cut short for the others.
        return await asyncio.shield(done)

    async def _write(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    results = await self._run_many([item for item, _ in batch])
                except Exception as exc:  # each waiter gets it
                    results = [exc] * len(batch)
                for (_, done), result in zip(batch, results, strict=True):
                    if done.done():
                        continue
                    if isinstance(result, Exception):
                        done.set_exception(result)
                    else:
                        done.set_result(result)
        finally:
            self._writer = None


class Coalesced(CoalescedAsync[Item, R]):
    """`CoalescedAsync` for a blocking `run_many` (one transaction for a list of items),
    run in a worker thread: on SQLite every write transaction waits for the one before
    it and each commit is a disk flush, so a burst costs one transaction, not one each."""

    def __init__(self, run_many: Callable[[list[Item]], list[R | Exception]]) -> None:
        super().__init__(functools.partial(call, run_many))
