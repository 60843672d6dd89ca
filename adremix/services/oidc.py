"""Google (or any OIDC issuer) sign-in through authlib's Starlette client."""

from __future__ import annotations

from authlib.integrations.starlette_client import OAuth

from adremix.settings import Settings

PROVIDER_NAME = "google"

# Plain-language messages for the ways a sign-in can fail; keys travel in `/login?error=`.
SIGN_IN_ERRORS: dict[str, str] = {
    "mismatching_state": "The sign-in link expired or was already used. Please try again.",
    "invalid_grant": "Google did not accept the sign-in code (it may have been used already).",
    "invalid_nonce": "The sign-in response did not match this browser's request. Please try again.",
    "invalid_audience": "The sign-in token was issued for a different application.",
    "expired_token": "The sign-in token has expired. Please try again.",
    "invalid_token": "The sign-in token could not be verified.",
    "unverified_email": "This Google account's e-mail address is not verified.",
    "access_denied": "Sign-in was cancelled.",
    "provider_unreachable": "Google sign-in is unreachable right now. Please try again shortly.",
    "not_configured": "Google sign-in is not configured on this server.",
    "refused": "This account cannot sign in.",
    "invalid_email": "Enter a valid e-mail address.",
    "account_deleted": "Your account and its images were deleted. Thank you for using AdRemix.",
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
