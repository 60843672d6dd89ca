"""Sign-in, callback and sign-out routes. The business rules live in services."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from adremix.api.limits import over_limit
from adremix.blocking import call
from adremix.enums import LimitedAction
from adremix.services import accounts
from adremix.services.accounts import (
    SESSION_COOKIE,
    SIGN_IN,
    SIGN_IN_CSRF_COOKIE,
    SIGN_OUT,
    SignInRefused,
    VerifiedIdentity,
    csrf_token_is_valid,
    hash_token,
    identity_from_claims,
    normalise_email,
    safe_next_path,
)
from adremix.settings import Settings
from adremix.urls import LOGIN

NEXT_KEY = "adremix_next"
MOUNT = "/auth"  # where api/__init__.py mounts this app
CALLBACK_PATH = MOUNT + "/google/callback"
CSRF_REFUSED = (
    "<!doctype html><title>Not signed out</title><p>This request did not come from "
    'AdRemix\'s own page, so nothing was changed. <a href="/">Back to AdRemix</a></p>'
)


def _login_error(code: str, next_path: str = "/") -> RedirectResponse:
    query = {"error": code}
    if next_path != "/":
        query["next"] = next_path
    return RedirectResponse(LOGIN + "?" + urlencode(query), status_code=303)


def build_auth_app(settings: Settings) -> Starlette:
    oauth = accounts.build_oauth(settings) if settings.google_configured else None

    async def _sign_in(identity: VerifiedIdentity, request: Request) -> str:
        user_agent = request.headers.get("user-agent", "")
        return await call(
            lambda: accounts.sign_in(identity=identity, user_agent=user_agent, settings=settings)
        )

    def _signed_in_redirect(token: str, next_path: str) -> RedirectResponse:
        response = RedirectResponse(safe_next_path(next_path), status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=settings.session_days * 24 * 3600,
            httponly=True,
            samesite="lax",
            secure=settings.is_production,
            path="/",
        )
        return response

    def _from_our_page(request: Request) -> bool:
        # Browsers send Origin with every POST; a form on another site names that site.
        origin = request.headers.get("origin")
        return origin is None or origin in settings.allowed_origins

    async def google_login(request: Request) -> Response:
        if limited := await over_limit(request, LimitedAction.SIGN_IN, None):
            return limited
        next_path = safe_next_path(request.query_params.get("next"))
        if oauth is None:
            return _login_error("not_configured", next_path)
        request.session[NEXT_KEY] = next_path
        # The registered redirect URI: on the public URL when one is set (behind a proxy the
        # request's own host may be an internal one), else on the host that was asked.
        # (Not url_for: the app is mounted inside the header wrappers, which have no routes.)
        if settings.public_url:
            redirect_uri = settings.public_url.rstrip("/") + CALLBACK_PATH
        else:
            redirect_uri = str(request.url.replace(path=CALLBACK_PATH, query=""))
        try:
            return await oauth.google.authorize_redirect(request, redirect_uri)
        except Exception:
            accounts.log_refusal("provider_unreachable", None)
            return _login_error("provider_unreachable", next_path)

    async def google_callback(request: Request) -> Response:
        if limited := await over_limit(request, LimitedAction.SIGN_IN, None):
            return limited
        next_path = safe_next_path(request.session.pop(NEXT_KEY, "/"))
        if oauth is None:
            return _login_error("not_configured", next_path)
        subject: str | None = None
        stage = "token"
        try:
            # authlib checks `iss` by default but `aud` only when asked: require both.
            metadata = await oauth.google.load_server_metadata()
            token = await oauth.google.authorize_access_token(
                request,
                claims_options={
                    "iss": {"essential": True, "values": [metadata["issuer"]]},
                    "aud": {"essential": True, "values": [settings.google_client_id]},
                },
            )
            subject = str((token.get("userinfo") or {}).get("sub") or "") or None
            stage = "userinfo"
            identity = identity_from_claims(await accounts.identity_claims(oauth.google, token))
        except SignInRefused as refused:
            accounts.log_refusal(refused.code, subject)
            return _login_error(accounts.refusal_code(refused), next_path)
        except Exception as exc:  # authlib, joserfc and httpx failures alike
            code = accounts.error_code_for(exc) if stage == "token" else "provider_unreachable"
            accounts.log_refusal(code if stage == "token" else "userinfo_unavailable", subject)
            return _login_error(code, next_path)
        try:
            session_token = await _sign_in(identity, request)
        except SignInRefused as refused:
            accounts.log_refusal(refused.code, identity.subject)
            return _login_error(accounts.refusal_code(refused), next_path)
        return _signed_in_redirect(session_token, next_path)

    async def dev_login(request: Request) -> Response:
        async with request.form() as form:
            email = str(form.get("email") or "")[:320]
            next_path = safe_next_path(str(form.get("next") or "/"))
            supplied_token = str(form.get("csrf_token") or "")
        # Counted before any other check, so refused attempts count too.
        if limited := await over_limit(request, LimitedAction.SIGN_IN, email.strip().lower()):
            return limited
        if not _from_our_page(request) or not csrf_token_is_valid(
            token=supplied_token,
            purpose=SIGN_IN,
            binding=request.cookies.get(SIGN_IN_CSRF_COOKIE),
        ):
            accounts.log_refusal("csrf", None)
            return _login_error("csrf", next_path)
        try:
            identity = VerifiedIdentity(email=normalise_email(email))
            session_token = await _sign_in(identity, request)
        except SignInRefused as refused:
            accounts.log_refusal(refused.code, None)
            return _login_error(accounts.refusal_code(refused), next_path)
        return _signed_in_redirect(session_token, next_path)

    async def logout(request: Request) -> Response:
        token = request.cookies.get(SESSION_COOKIE)
        async with request.form() as form:
            supplied_token = str(form.get("csrf_token") or "")
        if not _from_our_page(request) or not csrf_token_is_valid(
            token=supplied_token, purpose=SIGN_OUT, binding=hash_token(token) if token else None
        ):
            # A post from another site (or with no session): nothing is signed out.
            return HTMLResponse(CSRF_REFUSED, status_code=403)
        await call(lambda: accounts.sign_out(token=token))
        response = RedirectResponse(LOGIN, status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    routes = [
        Route("/google/login", google_login, methods=["GET"]),
        Route(CALLBACK_PATH.removeprefix(MOUNT), google_callback, methods=["GET"]),
        Route("/logout", logout, methods=["POST"]),
    ]
    if settings.dev_sign_in_enabled:
        # Exists only outside production and without a Google client: see Settings.
        routes.append(Route("/dev/login", dev_login, methods=["POST"]))
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=settings.signing_key,
                session_cookie="adremix_oauth",
                max_age=600,
                same_site="lax",
                https_only=settings.is_production,
            )
        ],
    )
