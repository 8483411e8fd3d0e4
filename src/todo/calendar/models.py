"""The calendar_feeds table: one private feed per user, found by its token's hash."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from todo.db import Base, UTCDateTime


class CalendarFeed(Base):
    """A feed's URL carries its token, derived from the server's secret and the feed's `nonce` (so that
    the URL can be shown again) and found by its SHA-256: a copy of the database alone opens no one's
    calendar. Making a new one replaces the old (its URL stops working)."""

    __tablename__ = "calendar_feeds"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    nonce: Mapped[str | None] = mapped_column(String(32), default=None)  # None: made before 0014
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
