"""How much memory decoded images may take at once, across every request of the process.

A 200 KB PNG can decode to 200 MB of pixels, so the number of concurrent decodes is not
what matters: their size is. Every decode holds its estimated size in one process-wide
budget (`ADREMIX_IMAGE_MEMORY_MB`) for as long as the full-size pixels live, and waits
(first come, first served) while the budget is spent; a decode that could never fit is
refused before it starts (images.py). Freed pixels go back to the operating system.
"""

from __future__ import annotations

import ctypes
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from adremix.settings import get_settings

MB = 1024 * 1024


class DecodeBudget:
    """A counting semaphore over bytes, fair to large requests."""

    def __init__(self, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes
        self._held = 0
        self._waiting: deque[object] = deque()
        self._changed = threading.Condition()

    @contextmanager
    def hold(self, nbytes: int) -> Iterator[None]:
        """Block until `nbytes` (at most the whole budget) fit, and keep them until the end."""
        wanted = max(0, min(nbytes, self.limit_bytes))
        turn = object()
        with self._changed:
            self._waiting.append(turn)
            # First come, first served: a stream of small decodes cannot starve a big one.
            self._changed.wait_for(
                lambda: self._waiting[0] is turn and self._held + wanted <= self.limit_bytes
            )
            self._waiting.popleft()
            self._held += wanted
            self._changed.notify_all()
        try:
            yield
        finally:
            with self._changed:
                self._held -= wanted
                self._changed.notify_all()


def _give_freed_pixels_back() -> None:
    """Make glibc hand large freed blocks straight back to the operating system.

    Pillow keeps pixels in 16 MB blocks. glibc's threshold for giving a block its own
    mapping rises to the size of the largest block freed so far, so after the first
    image every block comes from a worker thread's heap, which is never shrunk: a
    decoded 49-megapixel upload would stay resident long after it is gone. A fixed
    threshold keeps every large block in its own mapping, unmapped when freed.
    """
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(M_MMAP_THRESHOLD, MB)
    except (OSError, AttributeError):
        pass  # not glibc (musl, macOS): their allocators return large blocks already


M_MMAP_THRESHOLD = -3  # glibc's <malloc.h>
_give_freed_pixels_back()

_budgets: dict[int, DecodeBudget] = {}
_budgets_lock = threading.Lock()


def decode_budget() -> DecodeBudget:
    """The process-wide budget for the configured size."""
    limit = get_settings().image_memory_mb * MB
    with _budgets_lock:
        return _budgets.setdefault(limit, DecodeBudget(limit))
