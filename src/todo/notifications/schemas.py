"""What the notification endpoints answer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from todo.platform.fields import Moment, NoNul

FAILING_AFTER = 3  # failed attempts in a row after which a channel is flagged


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    task_id: uuid.UUID | None
    kind: str
    title: str
    body: str
    due_at: datetime | None
    created_at: datetime
    read_at: datetime | None


class UnreadCount(BaseModel):
    unread: int


class ChannelIn(BaseModel):
    """A channel to keep (by `id`, URL unchanged unless sent) or to add (by `url`)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"url": "mailto://user:app-password@gmail.com", "label": "Email"},
                {"url": "json://hooks.example.com/todo", "label": "Webhook"},
                {"url": "ntfy://my-topic", "label": "Phone"},
            ]
        },
    )

    id: uuid.UUID | None = None
    url: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000), NoNul] | None
    ) = Field(default=None, description="An Apprise URL: https://github.com/caronc/apprise/wiki")
    label: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), NoNul] = ""
    enabled: bool = True


class DeliveryOutcome(BaseModel):
    """How a channel answered the last time something was sent to it."""

    at: datetime
    ok: bool
    error: str | None


class ChannelRead(BaseModel):
    id: uuid.UUID
    label: str
    service: str
    url: str = Field(description="With passwords and tokens masked")
    enabled: bool
    created_at: datetime
    last_delivery: DeliveryOutcome | None = Field(default=None, description="None: nothing sent yet")
    failing: bool = Field(default=False, description=f"Its last {FAILING_AFTER} attempts all failed")


class ChannelTestResult(BaseModel):
    channel_id: uuid.UUID
    label: str
    ok: bool
    error: str | None


class ReminderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    minutes_before: int | None
    fire_at: datetime
    state: str
    sent_at: datetime | None
    late: bool


class SnoozeIn(BaseModel):
    """Remind me again: in `minutes`, or at `until`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"minutes": 10}]})

    minutes: int | None = Field(default=None, ge=1, le=60 * 24 * 30)
    until: Moment | None = None

    @model_validator(mode="after")
    def _one_of(self) -> SnoozeIn:
        if (self.minutes is None) == (self.until is None):
            raise ValueError("give either minutes or until")
        return self
