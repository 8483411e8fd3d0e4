"""An in-process cache of who is signed in: each sign-in's state and its user's row.

Every authenticated request needs the caller's row (for the time zone) and to know that its sign-in still
holds. Both change rarely (PATCH /api/me, signing out, a new password), and every such change wakes
`wakeups.SIGN_INS` when it commits: in this process directly, in the others by NOTIFY, so each process
forgets the user at once. `ttl_seconds` bounds what a missed notice can cost (the listener clears the
whole cache when it reconnects). A miss reads both in one statement outside any transaction.
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

    def forget(self, user_id: str = "") -> None:
        """The user's row or sign-ins changed (here, or in another process: `wakeups.SIGN_INS`): read them
        afresh on their next request. Without a user id, everybody (notices may have been missed)."""
        try:
            user = uuid.UUID(user_id)
        except ValueError:
            self._open.clear()
            self._users.clear()
            return
        self._users.pop(user, None)
        for session_id in [s for s, (_, owner) in self._open.items() if owner == user]:
            del self._open[session_id]


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
