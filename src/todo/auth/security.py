"""Password hashing (argon2) and access tokens (JWT, HS256)."""

from __future__ import annotations

import functools
import uuid
from datetime import datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from todo.errors import Unauthorized

_hasher = PasswordHasher()
# Verifying against this when the account does not exist keeps the timing of both answers alike.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def issue_token(user_id: uuid.UUID, *, secret: str, now: datetime, lifetime: timedelta) -> str:
    claims = {"sub": str(user_id), "iat": int(now.timestamp()), "exp": int((now + lifetime).timestamp())}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(token: str, *, secret: str, now: datetime) -> uuid.UUID:
    """The user id in a valid token; expiry is judged by our clock so that it can be tested."""
    user_id, expires = _verified(token, secret)
    if expires <= now.timestamp():
        raise Unauthorized("token expired")
    return user_id


@functools.lru_cache(maxsize=4096)
def _verified(token: str, secret: str) -> tuple[uuid.UUID, int]:
    """A signed token's subject and expiry. Kept per token once its signature checked out (a failure is
    not kept): a client sends the same token with every request, and checking it again each time was a
    tenth of an authenticated request's cost. Expiry is still judged on every request."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp"], "verify_exp": False}
        )
        return uuid.UUID(claims["sub"]), int(claims["exp"])
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise Unauthorized("invalid token") from exc
