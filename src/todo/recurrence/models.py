"""The recurring_tasks table: a series that creates its own occurrences as tasks."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, SmallInteger, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from todo.db import Base, UTCDateTime, utcnow


class RecurringTask(Base):
    __tablename__ = "recurring_tasks"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))  # its maker
    project_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    priority: Mapped[int] = mapped_column(SmallInteger, default=2)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    checklist: Mapped[list[str]] = mapped_column(JSON, default=list)  # each occurrence's, unchecked
    recurrence_type: Mapped[str] = mapped_column(String(10))
    recurrence_interval: Mapped[int] = mapped_column(Integer, default=1)
    rrule: Mapped[str | None] = mapped_column(String(500), default=None)
    start_date: Mapped[datetime] = mapped_column(UTCDateTime)
    end_date: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    count: Mapped[int | None] = mapped_column(Integer, default=None)
    timezone: Mapped[str] = mapped_column(String(64))
    repeat_from: Mapped[str] = mapped_column(String(12), default="schedule")
    last_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The clock's cursor: the next occurrence not yet created (None once the series has ended), and
    # when the clock creates it, ahead of its time (None while a completion series waits for completion).
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    next_create_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_occurrence_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    occurrences_created: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_recurring_tasks_user", "user_id", "created_at"),
        Index("ix_recurring_tasks_create", "is_active", "next_create_at"),
    )
