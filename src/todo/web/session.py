"""The sign-in cookie and CSRF protection.

The session cookie holds the backend's access token (HttpOnly, SameSite=Lax, Secure over HTTPS): the page
never sees it, and the web UI hands it to the API on each call. Forms carry a CSRF token that must equal the
`todo_csrf` cookie (double submit; the cookie is HttpOnly and SameSite=Strict, so another site can neither
read it nor send it along).
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request, Response

SESSION_COOKIE = "todo_session"
CSRF_COOKIE = "todo_csrf"
CSRF_FIELD = "csrf_token"


class CsrfFailed(Exception):
    """A form came without the token this browser was given."""


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def csrf_token(request: Request) -> str:
    """This browser's CSRF token; a new one is made (and set by `remember_csrf`) on its first page."""
    token = request.cookies.get(CSRF_COOKIE)
    if not token:
        token = request.state.new_csrf = secrets.token_urlsafe(32)
    return token


def remember_csrf(request: Request, response: Response) -> None:
    new = getattr(request.state, "new_csrf", None)
    if new:
        response.set_cookie(
            CSRF_COOKIE, new, httponly=True, samesite="strict", secure=_secure(request), path="/"
        )


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.cookies.get(CSRF_COOKIE)
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise CsrfFailed


def sign_in(request: Request, response: Response, token: str, *, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )


def sign_out(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def _secure(request: Request) -> bool:
    """Secure cookies whenever the browser came over HTTPS (directly or through the ingress)."""
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
