"""The base of every error a person may be shown.

A service raises a `UserFacingError` subclass when the user can act on what went wrong;
its `code` is stable (logs, tests, the login page's `?error=`) and its message is plain
language. `adremix/state/errors.py` is the one place that turns these into toasts; any
other exception is a bug, logged with its request and shown as one generic message.
"""

from __future__ import annotations

import re


class UserFacingError(Exception):
    """An error whose message is safe and useful to show to the signed-in user.

    A subclass's `code` is its name in snake_case (`InsufficientCredits` is
    "insufficient_credits") unless it sets one; a class is renamed only with its code.
    """

    code: str = "user_error"

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in vars(cls):
            cls.code = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self)
