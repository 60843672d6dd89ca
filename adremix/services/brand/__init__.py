"""Brand kits: logo, colours with roles, font, tone of voice and words to avoid, kept per
user and chosen on New Ad; the uploads are checked as the hostile input they may be."""

from adremix.services.brand.assets import (
    MAX_FONT_BYTES,
    MAX_LOGO_BYTES,
    FontUpload,
    InvalidBrandAsset,
    LogoUpload,
    check_logo,
    ingest_font,
    ingest_logo,
    sanitise_font,
)
from adremix.services.brand.kits import (
    MAX_KITS,
    UPLOADED_FONT,
    InvalidKit,
    KitInput,
    KitView,
    delete_kit,
    list_kits,
    save_kit,
    set_default_kit,
    split_words,
)

__all__ = [
    "MAX_FONT_BYTES",
    "MAX_KITS",
    "MAX_LOGO_BYTES",
    "UPLOADED_FONT",
    "FontUpload",
    "InvalidBrandAsset",
    "InvalidKit",
    "KitInput",
    "KitView",
    "LogoUpload",
    "check_logo",
    "delete_kit",
    "ingest_font",
    "ingest_logo",
    "list_kits",
    "sanitise_font",
    "save_kit",
    "set_default_kit",
    "split_words",
]
