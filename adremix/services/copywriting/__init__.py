"""Ad copy that fits: platform limits in one table, suggestions in nine languages."""

from adremix.services.copywriting.limits import PLATFORMS, PlatformLimits, length_on
from adremix.services.copywriting.phrase_bank import PHRASES
from adremix.services.copywriting.suggest import (
    CopyError,
    CopyRefused,
    CopyRequest,
    CopySuggestions,
    PlacementCopy,
    response_schema,
    suggest_copy,
)

__all__ = [
    "PHRASES",
    "PLATFORMS",
    "CopyError",
    "CopyRefused",
    "CopyRequest",
    "CopySuggestions",
    "PlacementCopy",
    "PlatformLimits",
    "length_on",
    "response_schema",
    "suggest_copy",
]
