"""The tasks table and its tags."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from todo.db import Base, UTCDateTime, utcnow


class Task(Base):
    __tablename__ = "tasks"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))  # its maker
    project_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("projects.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    priority: Mapped[int] = mapped_column(SmallInteger, default=2)
    due_date: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    notified: Mapped[bool] = mapped_column(Boolean, default=False)
    recurring_task_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("recurring_tasks.id", ondelete="SET NULL"), default=None
    )
    # The occurrence this task stands for; unlike due_date it never moves, so the pair stays unique.
    occurrence_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    reminder_minutes: Mapped[list[int] | None] = mapped_column(JSON, default=None)  # None: the user's
    # [{"id", "text", "done"}] in order (tasks.checklist); a new list on every change, never mutated
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tag_rows: Mapped[list[TaskTag]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", passive_deletes=True, order_by="TaskTag.tag"
    )

    __table_args__ = (
        UniqueConstraint("recurring_task_id", "occurrence_at", name="uq_tasks_occurrence"),
        Index("ix_tasks_user_due", "user_id", "due_date"),
        Index("ix_tasks_user_created", "user_id", "created_at"),
        Index("ix_tasks_project_created", "project_id", "created_at"),
    )

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]


class TaskTag(Base):
    __tablename__ = "task_tags"

    task_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(50), primary_key=True, index=True)
