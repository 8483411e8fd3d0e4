"""CloudEvents 1.0: the topics, the event kinds we write, and parsing what we receive. Pure, no I/O."""

from __future__ import annotations

import builtins
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Any

from todo.events.payloads import (
    DuePayload,
    EventPayload,
    P,
    PayloadError,
    SeriesPayload,
    TaskPayload,
    parse,
)


class Topic(StrEnum):
    task_created = "task-created"
    task_updated = "task-updated"
    task_completed = "task-completed"
    task_deleted = "task-deleted"
    task_due_soon = "task-due-soon"
    task_due = "task-due"
    recurring_task_due = "recurring-task-due"


@dataclass(frozen=True)
class EventKind:
    """One kind of event: where it is published, its CloudEvent type, the spec's short event_type, and
    what its `data` carries (the payload's version is the type's)."""

    topic: Topic
    type: str
    event_type: str
    payload: builtins.type[EventPayload]  # `type` is a field of this class: the builtin by name


TASK_CREATED = EventKind(Topic.task_created, "todo.task.created.v1", "created", TaskPayload)
TASK_UPDATED = EventKind(Topic.task_updated, "todo.task.updated.v1", "updated", TaskPayload)
TASK_COMPLETED = EventKind(Topic.task_completed, "todo.task.completed.v1", "completed", TaskPayload)
TASK_UNCOMPLETED = EventKind(Topic.task_updated, "todo.task.uncompleted.v1", "uncompleted", TaskPayload)
TASK_DELETED = EventKind(Topic.task_deleted, "todo.task.deleted.v1", "deleted", TaskPayload)
# Written by the notifications service's clocks (issue 3); consumed by the inbox and the channels.
TASK_DUE_SOON = EventKind(Topic.task_due_soon, "todo.task.due_soon.v1", "due_soon", DuePayload)
TASK_DUE = EventKind(Topic.task_due, "todo.task.due.v1", "due", DuePayload)
RECURRING_TASK_DUE = EventKind(
    Topic.recurring_task_due, "todo.recurring_task.due.v1", "occurrence_due", DuePayload
)
# Series changes travel on the task topics (the topic set is fixed); consumers tell them apart by `type`.
SERIES_CREATED = EventKind(Topic.task_created, "todo.recurring_task.created.v1", "created", SeriesPayload)
SERIES_UPDATED = EventKind(Topic.task_updated, "todo.recurring_task.updated.v1", "updated", SeriesPayload)
SERIES_DELETED = EventKind(Topic.task_deleted, "todo.recurring_task.deleted.v1", "deleted", SeriesPayload)

TASK_TYPES = frozenset(
    k.type for k in (TASK_CREATED, TASK_UPDATED, TASK_COMPLETED, TASK_UNCOMPLETED, TASK_DELETED)
)
KINDS = {
    k.type: k
    for k in (
        TASK_CREATED,
        TASK_UPDATED,
        TASK_COMPLETED,
        TASK_UNCOMPLETED,
        TASK_DELETED,
        TASK_DUE_SOON,
        TASK_DUE,
        RECURRING_TASK_DUE,
        SERIES_CREATED,
        SERIES_UPDATED,
        SERIES_DELETED,
    )
}


class MalformedEvent(ValueError):
    """An event no retry can fix; consumers answer DROP (dead-letter) for it."""


@dataclass(frozen=True)
class CloudEvent:
    id: str
    source: str
    type: str
    subject: str
    time: str
    topic: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "specversion": "1.0",
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "subject": self.subject,
            "time": self.time,
            "datacontenttype": "application/json",
            "data": self.data,
        }

    @cached_property
    def user_id(self) -> uuid.UUID:
        """Parsed once: every consumer of a delivery asks for it (cached in the instance's dict, which a
        frozen dataclass still has)."""
        return parse_uuid(self.data.get("user_id"), "data.user_id")

    @cached_property
    def payload(self) -> EventPayload:
        """`data` read as its type's payload, once per event however many consumers ask."""
        kind = KINDS.get(self.type)
        if kind is None:
            raise MalformedEvent(f"unknown event type {self.type!r} on {self.topic}")
        try:
            return parse(kind.payload, self.data)
        except PayloadError as exc:
            raise MalformedEvent(str(exc)) from exc

    def payload_as(self, model: builtins.type[P]) -> P:
        """The payload, as the kind a handler takes; MalformedEvent if the type carries another kind."""
        payload = self.payload
        if not isinstance(payload, model):
            raise MalformedEvent(f"{self.type} carries no {model.__name__}")
        return payload


def parse_uuid(value: object, where: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise MalformedEvent(f"{where} is not a UUID: {value!r}") from exc


def parse_datetime(value: object, where: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise MalformedEvent(f"{where} is not an ISO 8601 datetime: {value!r}") from exc
    if parsed.tzinfo is None:
        raise MalformedEvent(f"{where} has no UTC offset")
    return parsed


def parse_cloudevent(payload: object, *, topic: str) -> CloudEvent:
    """Validate the envelope fields we rely on; anything else is malformed."""
    if not isinstance(payload, dict):
        raise MalformedEvent("event is not a JSON object")
    missing = [k for k in ("id", "source", "type", "specversion") if not isinstance(payload.get(k), str)]
    if missing:
        raise MalformedEvent(f"event lacks {', '.join(missing)}")
    data = payload.get("data")
    if not isinstance(data, dict):
        raise MalformedEvent("event data is not a JSON object")
    return CloudEvent(
        id=payload["id"],
        source=payload["source"],
        type=payload["type"],
        subject=str(payload.get("subject", "")),
        time=str(payload.get("time", "")),
        topic=topic,
        data=data,
    )
