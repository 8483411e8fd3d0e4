"""The notification module's tables: the inbox, the reminder schedule, channels and their deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from todo.db import Base, BigIntPK, UTCDateTime, utcnow


class Notification(Base):
    __tablename__ = "notifications"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    task_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)  # the task may be gone later
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The event that caused it: a redelivered event cannot leave a second copy in anyone's inbox.
    event_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # the event's time
    # When it was written, which is not in created_at's order: the live stream follows this one.
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    __table_args__ = (
        Index("ix_notifications_user_created", "user_id", "created_at"),
        Index("ix_notifications_user_recorded", "user_id", "recorded_at"),
        UniqueConstraint(
            "event_id", "user_id", name="uq_notifications_event_user"
        ),  # one per member of a shared project
    )


class ReminderState(StrEnum):
    pending = "pending"
    sent = "sent"
    cancelled = "cancelled"


class Reminder(Base):
    """One planned reminder of a task. Kept after it is sent or cancelled: the task's reminder history."""

    __tablename__ = "reminders"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    task_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)  # no foreign key: fed by events
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    minutes_before: Mapped[int | None] = mapped_column(Integer, default=None)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)  # the due time it was for
    fire_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(12), default=ReminderState.pending.value)
    task_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    late: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_reminders_pending", "state", "fire_at"),)


class ReminderSource(Base):
    """The newest task version the reminder schedule was built from: older events are ignored."""

    __tablename__ = "reminder_sources"

    task_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class Channel(Base):
    """Where a user wants notifications besides the inbox: one Apprise URL (mailto://, json://, ntfy://...)."""

    __tablename__ = "channels"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)  # holds credentials: never answered in full
    label: Mapped[str] = mapped_column(String(100), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)  # the user's order
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeliveryState(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"  # gave up after the last retry


class Delivery(Base):
    """One notification to one channel, retried with backoff until it is sent or given up."""

    __tablename__ = "deliveries"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    notification_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("notifications.id", ondelete="CASCADE")
    )
    channel_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("channels.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(12), default=DeliveryState.pending.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    __table_args__ = (
        UniqueConstraint("notification_id", "channel_id", name="uq_deliveries_notification_channel"),
        Index("ix_deliveries_due", "state", "next_attempt_at"),
    )


class DeliveryAttempt(Base):
    """Every try, kept for the user and the operator to see what a channel answered."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    duration_ms: Mapped[int] = mapped_column(Integer)
