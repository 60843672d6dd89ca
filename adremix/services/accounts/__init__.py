"""Accounts: who is signed in. Users from verified identities (Google through OIDC, or the
developer sign-in), server-side sessions, the Account page, data export and deletion."""

from adremix.services.accounts.data import (
    AccountError,
    AccountOverview,
    SessionInfo,
    account_overview,
    delete_account,
    export_archive,
)
from adremix.services.accounts.navigation import DEFAULT_AFTER_SIGN_IN, safe_next_path
from adremix.services.accounts.oidc import (
    SIGN_IN_ERRORS,
    build_oauth,
    error_code_for,
    identity_claims,
    log_refusal,
    refusal_code,
)
from adremix.services.accounts.sessions import (
    SESSION_COOKIE,
    SignedInUser,
    hash_token,
    revoke_all_sessions,
    revoke_session,
    sign_out,
    sign_out_everywhere,
    signed_in_user,
    start_session,
    token_from_cookie_header,
    user_for_token,
)
from adremix.services.accounts.users import (
    SignInRefused,
    VerifiedIdentity,
    identity_from_claims,
    normalise_email,
    sign_in,
    upsert_user,
)

__all__ = [
    "DEFAULT_AFTER_SIGN_IN",
    "SESSION_COOKIE",
    "SIGN_IN_ERRORS",
    "AccountError",
    "AccountOverview",
    "SessionInfo",
    "SignInRefused",
    "SignedInUser",
    "VerifiedIdentity",
    "account_overview",
    "build_oauth",
    "delete_account",
    "error_code_for",
    "export_archive",
    "hash_token",
    "identity_claims",
    "identity_from_claims",
    "log_refusal",
    "normalise_email",
    "refusal_code",
    "revoke_all_sessions",
    "revoke_session",
    "safe_next_path",
    "sign_in",
    "sign_out",
    "sign_out_everywhere",
    "signed_in_user",
    "start_session",
    "token_from_cookie_header",
    "upsert_user",
    "user_for_token",
]
