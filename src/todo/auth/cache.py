"""A short-lived, in-process cache of who is signed in: each sign-in's state and its user's row.

Every authenticated request needs the caller's row (for the time zone) and to know that its sign-in still
holds. Both change rarely (PATCH /api/me, signing out), and a change made through another process shows
here within `ttl_seconds`; one made through this process, at once. A miss reads both in one statement,
outside any transaction: users come back every few seconds, often to the other worker, so misses are
common, and two transactional reads cost a listing's worth of round trips.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import make_transient_to_detached

from todo.auth.models import AuthSession, User

_USER_COLUMNS = [column.key for column in User.__table__.columns]
# Built once: SQLAlchemy keys its compiled-statement cache on the statement, a key built per execution
_SIGN_IN = (
    select(
        *User.__table__.columns,
        AuthSession.expires_at.label("sign_in_expires_at"),
        AuthSession.revoked_at.label("sign_in_revoked_at"),
    )
    .join_from(AuthSession, User, AuthSession.user_id == User.id)
    .where(AuthSession.id == bindparam("session_id"), AuthSession.user_id == bindparam("user_id"))
)


class SignInCache:
    def __init__(self, *, ttl_seconds: float = 10.0, max_entries: int = 10_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._open: OrderedDict[uuid.UUID, tuple[float, uuid.UUID]] = OrderedDict()  # -> (until, user)
        self._users: OrderedDict[uuid.UUID, tuple[float, dict[str, Any]]] = OrderedDict()

    async def user(
        self,
        read_sessions: async_sessionmaker[AsyncSession],
        *,
        session_id: uuid.UUID,
        user_id: uuid.UUID,
        now: datetime,
    ) -> User | None:
        """The user of the sign-in `session_id`, detached, if it is still open (not revoked, not expired,
        `user_id`'s); else None. `read_sessions` must be autocommit: the miss is one round trip."""
        clock = time.monotonic()
        sign_in, row = self._open.get(session_id), self._users.get(user_id)
        if sign_in is not None and sign_in[0] > clock and row is not None and row[0] > clock:
            return _detached(row[1]) if sign_in[1] == user_id else None
        async with read_sessions() as session:
            params = {"session_id": session_id, "user_id": user_id}
            found = (await session.execute(_SIGN_IN, params)).mappings().first()
        if found is None or found["sign_in_revoked_at"] is not None or found["sign_in_expires_at"] <= now:
            self._open.pop(session_id, None)
            return None
        values = {key: found[key] for key in _USER_COLUMNS}
        _remember(self._open, session_id, (clock + self.ttl, user_id), self.max_entries)
        _remember(self._users, user_id, (clock + self.ttl, values), self.max_entries)
        return _detached(values)

    def forget_user(self, user_id: uuid.UUID) -> None:
        """The user's row changed through this process: read it afresh on the next request."""
        self._users.pop(user_id, None)

    def forget_sign_ins(self, session_ids: list[uuid.UUID]) -> None:
        """Sign-ins revoked through this process: refused from the next request on."""
        for session_id in session_ids:
            self._open.pop(session_id, None)


def _detached(values: dict[str, Any]) -> User:
    """A fresh instance per request (a handler may change it), detached: attaching it to the request's
    session cost a fifth of a cached `GET /api/me`, and only a change needs that (`auth.service.update`)."""
    user = User(**values)
    make_transient_to_detached(user)
    return user


def _remember(entries: OrderedDict[uuid.UUID, Any], key: uuid.UUID, value: Any, limit: int) -> None:
    entries[key] = value
    entries.move_to_end(key)
    while len(entries) > limit:
        entries.popitem(last=False)
