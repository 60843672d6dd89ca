"""The one error of the library: a request the user must change."""

from __future__ import annotations

from adremix.services.errors import UserFacingError


class LibraryError(UserFacingError):
    """A library request the user must change (a name taken, a folder that is gone)."""
