"""The analytics projection: one row per task, kept from the task events."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from todo.db import Base, UTCDateTime


class AnalyticsTask(Base):
    __tablename__ = "analytics_tasks"

    task_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    # Whose members count it in their insights; None for tasks last heard of before projects (the owner's)
    project_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_date: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    version: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_analytics_tasks_user", "user_id"),)
