"""Short-lived, in-process caches of the signed-in user's row and of whether their sign-in still holds.

Every authenticated request needs the caller's row (for the time zone) and its sign-in's state; reading
them costs a third of a small request each. Both change rarely (PATCH /api/me, signing out), and a change
made through another process shows here within `ttl_seconds`; one made through this process, at once.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import make_transient_to_detached

from todo.auth.models import AuthSession, User


class UserCache:
    def __init__(self, *, ttl_seconds: float = 10.0, max_entries: int = 10_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._rows: OrderedDict[uuid.UUID, tuple[float, dict[str, object]]] = OrderedDict()

    async def get(self, sessions: async_sessionmaker[AsyncSession], user_id: uuid.UUID) -> User | None:
        """The user, detached: from the cache when fresh, else read in a session of its own. (Attaching
        it to the request's session cost a fifth of a cached `GET /api/me`, and only a change needs
        that, see `todo.auth.service.update`.)"""
        entry = self._rows.get(user_id)
        if entry is not None and entry[0] > time.monotonic():
            detached = User(**entry[1])
            make_transient_to_detached(detached)
            return detached
        async with sessions() as session:
            user = await session.get(User, user_id)
        if user is not None:
            self._remember(user)
        return user

    def forget(self, user_id: uuid.UUID) -> None:
        self._rows.pop(user_id, None)

    def _remember(self, user: User) -> None:
        values = {column.key: getattr(user, column.key) for column in User.__table__.columns}
        self._rows[user.id] = (time.monotonic() + self.ttl, values)
        self._rows.move_to_end(user.id)
        while len(self._rows) > self.max_entries:
            self._rows.popitem(last=False)


class SessionCache:
    """Whether a sign-in (`AuthSession`) is still open: not revoked, not expired, the token's user's."""

    def __init__(self, *, ttl_seconds: float = 10.0, max_entries: int = 10_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._open: OrderedDict[uuid.UUID, tuple[float, uuid.UUID]] = OrderedDict()  # -> (until, user)

    async def is_open(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        session_id: uuid.UUID,
        user_id: uuid.UUID,
        now: datetime,
    ) -> bool:
        entry = self._open.get(session_id)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1] == user_id
        async with sessions() as session:
            row = await session.get(AuthSession, session_id)
        if row is None or row.revoked_at is not None or row.expires_at <= now or row.user_id != user_id:
            self._open.pop(session_id, None)
            return False
        self._open[session_id] = (time.monotonic() + self.ttl, user_id)
        self._open.move_to_end(session_id)
        while len(self._open) > self.max_entries:
            self._open.popitem(last=False)
        return True

    def forget(self, session_ids: list[uuid.UUID]) -> None:
        """Sign-ins revoked through this process: refused from the next request on."""
        for session_id in session_ids:
            self._open.pop(session_id, None)
