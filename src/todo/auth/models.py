"""The users table."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import NamedTuple

from sqlalchemy import JSON, ForeignKey, String, Time, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from todo.db import Base, UTCDateTime, utcnow
from todo.platform.fields import DEFAULT_REMINDER_MINUTES


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(100), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # When to remind before a due time, for tasks that do not set their own.
    reminder_minutes: Mapped[list[int]] = mapped_column(JSON, default=lambda: list(DEFAULT_REMINDER_MINUTES))
    # Wall times in `timezone`; channel deliveries inside them wait until they end (both set, or neither)
    quiet_hours_start: Mapped[time | None] = mapped_column(Time, default=None)
    quiet_hours_end: Mapped[time | None] = mapped_column(Time, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def quiet_hours(self) -> QuietWindow | None:
        if self.quiet_hours_start is None or self.quiet_hours_end is None:
            return None
        return QuietWindow(self.quiet_hours_start, self.quiet_hours_end)


class QuietWindow(NamedTuple):
    start: time
    end: time


class AuthSession(Base):
    """One sign-in: the `sid` of the token it issued. Signing out revokes it, and the token stops working
    before it expires; a password change revokes every other one."""

    __tablename__ = "auth_sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ApiToken(Base):
    """A personal API token: a bearer token beside the sign-in's, for scripts and integrations. Only its
    SHA-256 is kept; `scope` "read" lets it only read."""

    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(8))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))  # its first characters, to tell tokens apart in a list
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
