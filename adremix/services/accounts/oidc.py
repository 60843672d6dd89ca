"""Google (or any OIDC issuer) sign-in through authlib's Starlette client."""

from __future__ import annotations

import logging
from typing import Any

from authlib.integrations.starlette_client import OAuth

from adremix.services.accounts.users import SignInRefused
from adremix.settings import Settings

log = logging.getLogger(__name__)

PROVIDER_NAME = "google"

# Plain-language messages for the ways a sign-in can fail; keys travel in `/login?error=`.
SIGN_IN_ERRORS: dict[str, str] = {
    "mismatching_state": "The sign-in link expired or was already used. Please try again.",
    "invalid_grant": "Google did not accept the sign-in code (it may have been used already).",
    "invalid_nonce": "The sign-in response did not match this browser's request. Please try again.",
    "invalid_audience": "The sign-in token was issued for a different application.",
    "expired_token": "The sign-in token has expired. Please try again.",
    "invalid_token": "The sign-in token could not be verified.",
    "unverified_email": (
        "This Google account's e-mail address is not verified. Verify it with Google, "
        "then sign in again."
    ),
    "no_email": (
        "Google did not share an e-mail address for this account, and AdRemix needs one "
        "for receipts. Sign in with an account that has an e-mail address."
    ),
    "access_denied": "Sign-in was cancelled.",
    "provider_unreachable": "Google sign-in is unreachable right now. Please try again shortly.",
    "not_configured": "Google sign-in is not configured on this server.",
    "refused": "This account cannot sign in.",
    "invalid_email": "Enter a valid e-mail address.",
    "csrf": "The sign-in form expired or did not come from this page. Please try again.",
    "account_deleted": "Your account and its images were deleted. Thank you for using AdRemix.",
    "account_suspended": (
        "This account is suspended, so it cannot sign in. Your data is kept; write to "
        "support to have the account restored."
    ),
}


def build_oauth(settings: Settings) -> OAuth:
    """An authlib registry with one OIDC client; discovery, JWKS and PKCE come from authlib."""
    oauth = OAuth()
    oauth.register(
        PROVIDER_NAME,
        client_id=settings.google_client_id,
        client_secret=settings.google_client_secret,
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": "openid email profile",
            "code_challenge_method": "S256",
            "timeout": 10,
        },
    )
    return oauth


# What the login page says for a refused identity; other reasons show the generic "refused".
# (Only the account's owner gets this far: the identity was verified first.)
PUBLIC_REFUSALS = ("no_email", "unverified_email", "invalid_email", "account_suspended")


def refusal_code(refused: SignInRefused) -> str:
    return refused.code if refused.code in PUBLIC_REFUSALS else "refused"


def log_refusal(reason: str, subject: str | None) -> None:
    """One line per refused sign-in: the reason and the OIDC subject, nothing personal."""
    log.warning("Sign-in refused: reason=%s sub=%s", reason, subject or "-")


async def identity_claims(client: Any, token: dict) -> dict:
    """The validated ID token's claims, completed from the userinfo endpoint when the
    provider keeps `email` / `email_verified` out of the ID token (the OIDC spec allows
    it; Google puts them in, a default panva oidc-provider does not).

    The userinfo answer counts only if its `sub` is the ID token's (OIDC Core 5.3.2), and
    never overrides a claim the signed ID token already carries.
    """
    claims = dict(token.get("userinfo") or {})
    if "email" in claims and "email_verified" in claims:
        return claims
    info = dict(await client.userinfo(token=token))
    if str(info.get("sub") or "") != str(claims.get("sub") or ""):
        raise SignInRefused(
            "The sign-in provider's account details did not match its sign-in token.",
            code="userinfo_subject_mismatch",
        )
    return {**info, **claims}


def error_code_for(exc: Exception) -> str:
    """Map an authlib / joserfc failure to one of SIGN_IN_ERRORS' keys.

    authlib validates `exp`/`aud` with its own error classes and `nonce` with joserfc's,
    so this reads their shared `error` code and claim name instead of matching classes.
    """
    from authlib.integrations.base_client import OAuthError

    if isinstance(exc, OAuthError):
        return exc.error if exc.error in SIGN_IN_ERRORS else "invalid_grant"
    error = getattr(exc, "error", "")
    if error == "expired_token":
        return "expired_token"
    if error in ("invalid_claim", "missing_claim"):
        claim = getattr(exc, "claim_name", None) or getattr(exc, "claim", "")
        by_claim = {
            "nonce": "invalid_nonce",
            "aud": "invalid_audience",
            "azp": "invalid_audience",
            "exp": "expired_token",
        }
        return by_claim.get(claim, "invalid_token")
    if error:
        return "invalid_token"
    return "provider_unreachable"
