"""How the console writes times, money and statuses (India's time, rupees)."""

from __future__ import annotations

from datetime import datetime

from adremix.services.billing import IST
from adremix.services.credits import format_inr


def when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(IST).strftime("%d %b %Y, %H:%M")


def inr(paise: int) -> str:
    return format_inr(paise, always_paise=True)


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"
