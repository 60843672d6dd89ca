"""Creating and updating users from verified identities."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import delete
from sqlmodel import Session, select

from adremix.db import session_scope
from adremix.models import (
    SEARCH_PREFIX_MAX,
    DeletedIdentity,
    User,
    UserSearchPrefix,
    UserSearchTerm,
)
from adremix.services.accounts.sessions import start_session
from adremix.services.credits import grant_signup_bonus
from adremix.services.errors import UserFacingError
from adremix.settings import Settings, get_settings


class SignInRefused(UserFacingError):
    """An identity that must not be signed in; the message is safe to show.

    `code` says why, for the log and the login page: "no_subject", "no_email",
    "unverified_email", "account_deleted", "account_suspended", "email_taken",
    "invalid_email".
    """


SUSPENDED_MESSAGE = (
    "This account is suspended. Your data is kept; write to support to have it restored."
)


@dataclass(frozen=True)
class VerifiedIdentity:
    """What we take from a validated ID token (or from the developer sign-in)."""

    email: str
    name: str = ""
    avatar_url: str = ""
    subject: str | None = None


def identity_from_claims(claims: dict) -> VerifiedIdentity:
    """Turn validated OIDC claims into an identity, refusing unverified e-mail addresses."""
    email = str(claims.get("email") or "").strip().lower()
    if not claims.get("sub"):
        raise SignInRefused("The sign-in provider did not identify the account.", code="no_subject")
    if not email:
        raise SignInRefused("The Google account has no e-mail address.", code="no_email")
    if claims.get("email_verified") is not True:
        raise SignInRefused(
            "This Google account's e-mail address is not verified.", code="unverified_email"
        )
    return VerifiedIdentity(
        email=email,
        name=str(claims.get("name") or ""),
        avatar_url=str(claims.get("picture") or ""),
        subject=str(claims["sub"]),
    )


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or " " in email or len(email) > 320:
        raise SignInRefused("Enter a valid e-mail address.", code="invalid_email")
    return email


# Fixed, so the record survives a rotation of ADREMIX_SECRET_KEY; with it the stored hashes
# match no precomputed table of e-mail hashes.
IDENTITY_SALT = b"adremix:deleted-identity:v1:"


def identity_hashes(*, email: str | None, subject: str | None) -> list[str]:
    """Salted hashes of an identity's Google subject and e-mail address (those it has)."""
    parts = [f"sub:{subject}" if subject else "", f"email:{email.lower()}" if email else ""]
    return [hashlib.sha256(IDENTITY_SALT + part.encode()).hexdigest() for part in parts if part]


def forget_identity(session: Session, *, email: str, subject: str | None) -> None:
    """Keep only the salted hashes of a deleted account's identity (see DeletedIdentity)."""
    for identity_hash in identity_hashes(email=email, subject=subject):
        known = session.exec(
            select(DeletedIdentity.id).where(DeletedIdentity.identity_hash == identity_hash)
        ).first()
        if known is None:
            session.add(DeletedIdentity(identity_hash=identity_hash))


def _was_deleted_before(session: Session, identity: VerifiedIdentity) -> bool:
    hashes = identity_hashes(email=identity.email, subject=identity.subject)
    return (
        session.exec(
            select(DeletedIdentity.id).where(DeletedIdentity.identity_hash.in_(hashes))  # type: ignore[attr-defined]
        ).first()
        is not None
    )


def upsert_user(*, session: Session, identity: VerifiedIdentity) -> tuple[User, bool]:
    """Find the user by OIDC subject (then e-mail), create if new. Returns (user, created).

    Refuses a deleted or suspended account. Roles are not taken from the settings here:
    ADREMIX_ADMIN_EMAILS / ADREMIX_SUPPORT_EMAILS are read on every check, so removing an
    address there takes the role away.
    """
    user = None
    if identity.subject:
        user = session.exec(select(User).where(User.oidc_subject == identity.subject)).first()
    if user is None:
        user = session.exec(select(User).where(User.email == identity.email)).first()
    if user is not None and user.deleted_at is not None:
        raise SignInRefused("This account was deleted.", code="account_deleted")
    if user is not None and user.suspended_at is not None:
        raise SignInRefused(SUSPENDED_MESSAGE, code="account_suspended")
    if user is not None and identity.subject and user.oidc_subject not in (None, identity.subject):
        # Same e-mail, different Google account (an address can be recycled): never merge.
        raise SignInRefused(
            "This e-mail address belongs to a different Google account.", code="email_taken"
        )
    created = user is None
    if user is None:
        user = User(email=identity.email, name=identity.name or identity.email.split("@")[0])
    if identity.subject:
        user.oidc_subject = identity.subject
    user.email = identity.email
    if identity.name:
        user.name = identity.name
    if identity.avatar_url:
        user.avatar_url = identity.avatar_url
    session.add(user)
    session.flush()
    reindex_user(session, user)
    return user, created


SEARCH_TERM_MAX = 120


def search_terms(*, email: str, name: str) -> set[str]:
    """What the admin console finds a user by: their lower-cased e-mail address, its local
    part and domain, their name and each word of it. A search matches a prefix of one."""
    email = email.strip().lower()
    name = normalise_search(name)
    local, _, domain = email.partition("@")
    terms = {email, local, domain, name, *name.split(" ")}
    return {term[:SEARCH_TERM_MAX] for term in terms if term}


def normalise_search(text: str) -> str:
    """Lower case, single spaces: how terms are stored and searches compared."""
    return " ".join(text.lower().split())


def search_prefixes(terms: set[str]) -> set[str]:
    """Every prefix of the terms up to SEARCH_PREFIX_MAX characters (UserSearchPrefix)."""
    return {
        term[:length]
        for term in terms
        for length in range(1, min(len(term), SEARCH_PREFIX_MAX) + 1)
    }


def reindex_user(session: Session, user: User) -> None:
    """Bring the user's search terms, and their prefixes, in line with their e-mail
    address and name."""
    assert user.id is not None
    wanted = search_terms(email=user.email, name=user.name)
    held = set(
        session.exec(select(UserSearchTerm.term).where(UserSearchTerm.user_id == user.id)).all()
    )
    if held == wanted:
        return
    _replace(session, UserSearchTerm, "term", user.id, held, wanted)
    _replace(
        session,
        UserSearchPrefix,
        "prefix",
        user.id,
        search_prefixes(held),
        search_prefixes(wanted),
        created_at=user.created_at,
    )
    session.flush()


def _replace(
    session: Session,
    model: type[UserSearchTerm] | type[UserSearchPrefix],
    key: str,
    user_id: int,
    held: set[str],
    wanted: set[str],
    **columns: object,
) -> None:
    """The user's rows of `model` keyed by `key`: those held but not wanted deleted, those
    wanted but not held added."""
    if stale := held - wanted:
        session.execute(
            delete(model).where(
                model.user_id == user_id,  # type: ignore[arg-type]
                getattr(model, key).in_(stale),
            )
        )
    for value in wanted - held:
        session.add(model(**{key: value, "user_id": user_id, **columns}))


def sign_in(
    *, identity: VerifiedIdentity, user_agent: str = "", settings: Settings | None = None
) -> str:
    """Sign a verified identity in: create or update the user, grant the welcome credits
    to a new one (once per identity, ever: not again after the account was deleted), and
    start a session. Returns the cookie's token."""
    settings = settings or get_settings()
    with session_scope() as session:
        user, created = upsert_user(session=session, identity=identity)
        if created and user.id is not None and not _was_deleted_before(session, identity):
            grant_signup_bonus(session=session, user_id=user.id, amount=settings.signup_bonus)
        return start_session(
            session=session, user=user, days=settings.session_days, user_agent=user_agent
        )
