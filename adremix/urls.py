"""The app's own URLs for pages, stored files and receipts, built in one place.

Pages are linked at their canonical address, with the trailing slash the production
server would otherwise answer with a 307 to (a round trip lost on every navigation and
sign-in). `api/file_routes.py` serves exactly the file paths. The builders take a plain string in
services and state, or a Reflex Var in components (Vars concatenate with `+` as well), so
a page and the server can never disagree about where a file lives.
"""

from __future__ import annotations

from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

from adremix.enums import ImageKind

DASHBOARD = "/"
NEW_AD = "/new/"
HISTORY = "/history/"
CREDITS = "/credits/"
ACCOUNT = "/account/"
BRAND = "/brand/"
LOGIN = "/login/"
PAGES = (DASHBOARD, NEW_AD, HISTORY, BRAND, CREDITS, ACCOUNT, LOGIN)

FILES_PREFIX = "/files"
RECEIPTS_PREFIX = "/receipts"
# Downloads the result menu offers: the `format` query value file_routes accepts, and its label.
DOWNLOAD_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WebP"}

Text = TypeVar("Text")  # str, or a Reflex string Var


def file_url(sha: Text, kind: ImageKind = ImageKind.RESULT, *, download: str = "") -> Text:
    """A stored image of the signed-in user's: a source, a result, or a thumbnail.

    `download` (png, jpeg or webp) asks for the file as an attachment in that format.
    """
    if kind == ImageKind.THUMB:
        return f"{FILES_PREFIX}/thumb/" + sha + ".webp"  # type: ignore[operator,return-value]
    url = f"{FILES_PREFIX}/{kind}/" + sha  # type: ignore[operator]
    if download:
        url = url + f"?format={download}&download=1"
    return url  # type: ignore[return-value]


def cover_url(output_hashes: list[str]) -> str:
    """A generation's cover picture: its first result's thumbnail, or "" when it has none."""
    return file_url(output_hashes[0], ImageKind.THUMB) if output_hashes else ""


def placement_url(sha: Text, placement: str = "") -> Text:
    """A result exported to one ad placement (a JPEG), or to all of them (a zip)."""
    base = f"{FILES_PREFIX}/result/" + sha  # type: ignore[operator]
    return base + (f"/placement/{placement}.jpg" if placement else "/placements.zip")  # type: ignore[return-value]


def receipt_url(receipt_number: Text) -> Text:
    return f"{RECEIPTS_PREFIX}/" + receipt_number  # type: ignore[operator,return-value]


DOCUMENTS_PREFIX = "/api/billing/documents"


def document_url(document_id: Text) -> Text:
    """A tax invoice or credit note of the signed-in user's, as a PDF."""
    return f"{DOCUMENTS_PREFIX}/" + document_id + ".pdf"  # type: ignore[operator,return-value]


# The admin console (pages/admin/); only staff are ever told these addresses.
ADMIN = "/admin/"
ADMIN_USERS = "/admin/users/"
ADMIN_PAYMENTS = "/admin/payments/"
ADMIN_WEBHOOKS = "/admin/webhooks/"
ADMIN_FAILURES = "/admin/failures/"
ADMIN_AUDIT = "/admin/audit/"
ADMIN_EXPORT_PREFIX = "/admin/export/"


def admin_user_url(user_id: Text) -> Text:
    return f"{ADMIN_USERS}" + user_id + "/"  # type: ignore[operator,return-value]


def admin_export_url(table: str) -> str:
    """Where the console's export forms post (a CSV download)."""
    return f"{ADMIN_EXPORT_PREFIX}{table}.csv"


def is_admin_path(path: str) -> bool:
    """Anything under /admin: the console's pages, their prerendered files, its exports."""
    return path == "/admin" or path.startswith(("/admin/", "/admin."))


def route_of(page: str) -> str:
    """The route a page is registered under ("/new/" -> "/new"), as Reflex names it."""
    return page.rstrip("/") or "/"


def canonical_path(path: str) -> str:
    """A page's address with its trailing slash ("/history?x=1" -> "/history/?x=1").

    Anything that is not one of our pages (files, receipts, API routes) is left as it is.
    """
    parts = urlsplit(path)
    if parts.path + "/" not in PAGES:
        return path
    return urlunsplit(parts._replace(path=parts.path + "/"))
