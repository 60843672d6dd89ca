"""Who is staff of the admin console, and with which role.

A role comes from the settings (ADREMIX_ADMIN_EMAILS, ADREMIX_SUPPORT_EMAILS), read on
every check so that removing an address takes the role away at once, or from a grant
stored on the user (`python -m adremix roles grant`, or an admin in the console). The
higher of the two counts: admin above support.
"""

from __future__ import annotations

from adremix.enums import Role
from adremix.settings import Settings, get_settings


def settings_role(email: str, settings: Settings | None = None) -> Role | None:
    """The role the settings give this e-mail address, if any."""
    settings = settings or get_settings()
    address = email.strip().lower()
    if address in settings.admin_emails:
        return Role.ADMIN
    if address in settings.support_emails:
        return Role.SUPPORT
    return None


def effective_role(
    *, email: str, stored: str | None, settings: Settings | None = None
) -> Role | None:
    """The user's role in force: the settings' or the stored grant's, whichever is higher."""
    from_settings = settings_role(email, settings)
    if Role.ADMIN in (from_settings, stored):
        return Role.ADMIN
    if Role.SUPPORT in (from_settings, stored):
        return Role.SUPPORT
    return None


def staff_emails(settings: Settings | None = None) -> tuple[frozenset[str], frozenset[str]]:
    """(admin, support) addresses the settings name, for queries that filter by role."""
    settings = settings or get_settings()
    return settings.admin_emails, settings.support_emails - settings.admin_emails
