"""Password hashing (argon2) and access tokens (JWT, HS256)."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from todo.errors import Unauthorized

_hasher = PasswordHasher()
# Verifying against this when the account does not exist keeps the timing of both answers alike.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
ALGORITHM = "HS256"
REQUIRED = ["sub", "sid", "exp"]  # a token from before sign-ins were rows has no `sid`: sign in again


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class TokenClaims:
    """Whose token it is, and which sign-in (`AuthSession`) issued it."""

    user_id: uuid.UUID
    session_id: uuid.UUID


def issue_token(claims: TokenClaims, *, secret: str, now: datetime, lifetime: timedelta) -> str:
    payload = {
        "sub": str(claims.user_id),
        "sid": str(claims.session_id),
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def read_token(token: str, *, secret: str, now: datetime) -> TokenClaims:
    """The claims of a valid token; expiry is judged by our clock so that it can be tested. (Whether its
    session was signed out is the session store's to say.)"""
    claims, expires = _verified(token, secret)
    if expires <= now.timestamp():
        raise Unauthorized("token expired")
    return claims


@functools.lru_cache(maxsize=4096)
def _verified(token: str, secret: str) -> tuple[TokenClaims, int]:
    """A signed token's claims and expiry. Kept per token once its signature checked out (a failure is
    not kept): a client sends the same token with every request, and checking it again each time was a
    tenth of an authenticated request's cost. Expiry is still judged on every request."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": REQUIRED, "verify_exp": False}
        )
        return TokenClaims(uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"])), int(claims["exp"])
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise Unauthorized("invalid token") from exc
