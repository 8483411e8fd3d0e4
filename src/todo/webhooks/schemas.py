"""What the webhook endpoints accept and answer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from todo.platform.fields import NoNul
from todo.webhooks.events import NAMES


def _known(names: list[str]) -> list[str]:
    unknown = sorted(set(names) - NAMES.keys())
    if unknown:
        raise ValueError(f"unknown event {unknown[0]!r}: one of {', '.join(sorted(NAMES))}")
    return sorted(set(names))


def _http(url: str) -> str:
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return url


Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=2000), NoNul,
                AfterValidator(_http)]  # fmt: skip
EventNames = Annotated[
    list[str],
    Field(min_length=1, max_length=len(NAMES), examples=[["task.created", "task.completed", "task.due"]]),
    AfterValidator(_known),
]
Secret = Annotated[str, StringConstraints(min_length=16, max_length=100), NoNul]


class WebhookCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"url": "https://example.com/hooks/todo", "events": ["task.completed"]}]
        },
    )

    url: Url
    events: EventNames
    secret: Secret | None = Field(default=None, description="For the signature; made for you if not given")


class WebhookPatch(BaseModel):
    """The fields present change; `{"active": true}` resumes a paused subscription."""

    model_config = ConfigDict(extra="forbid")

    url: Url | None = None
    events: EventNames | None = None
    active: bool | None = None


class LastDelivery(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    state: str
    attempts: int
    last_status: int | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    url: str
    events: list[str]
    active: bool
    failures: int = Field(description="Failed attempts in a row")
    paused_reason: str | None
    created_at: datetime
    last_delivery: LastDelivery | None = Field(default=None, description="The newest event queued for it")


class WebhookMade(WebhookRead):
    secret: str = Field(description="Shown only now: check each request's X-Todo-Signature with it")


class WebhookDeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    event_id: str
    event_type: str
    subject: str
    state: str = Field(description="pending, sent, or failed (given up)")
    attempts: int
    next_attempt_at: datetime
    last_status: int | None = Field(description="The receiver's HTTP status on the last attempt")
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
