"""The webhook subscriptions and each event queued for one."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from todo.db import Base, BigIntPK, UTCDateTime, utcnow


class Webhook(Base):
    __tablename__ = "webhooks"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON)  # names from webhooks.events.NAMES
    secret: Mapped[str] = mapped_column(String(100))  # kept: every request is signed with it
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # False: paused (by its owner or failures)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # failed attempts in a row
    paused_reason: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDeliveryState(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"  # given up after the last attempt


class WebhookDelivery(Base):
    """One event for one subscription. `seq` is the order the events were queued in, which is their order
    per task: a task's next event waits until this one is sent or given up."""

    __tablename__ = "webhook_deliveries"

    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    webhook_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(100))
    event_type: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(100))  # the task's id: the unit of order
    body: Mapped[str] = mapped_column(Text)  # the CloudEvent as sent: every attempt sends these bytes
    state: Mapped[str] = mapped_column(String(10), default=WebhookDeliveryState.pending.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_status: Mapped[int | None] = mapped_column(Integer, default=None)  # the receiver's HTTP status
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    __table_args__ = (
        UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_webhook_event"),
        Index("ix_webhook_deliveries_ready", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_order", "webhook_id", "subject", "seq"),
    )
