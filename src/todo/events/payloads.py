"""What each event type carries in its `data`: the contract between the service that writes an event and
the consumers that read it, versioned with the type (`todo.task.created.v1` carries a `TaskPayload`).

These are not the API's answers: an HTTP field can change without changing an event, and a change here
is a new type version. Within a version fields are only ever added, so readers ignore what they do not
know. Pure, no I/O.
"""

from __future__ import annotations

import uuid
from typing import Annotated, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationError


class EventPayload(BaseModel):
    """Every payload names its owner and the version of the entity it describes."""

    model_config = ConfigDict(frozen=True, extra="ignore", from_attributes=True)

    user_id: uuid.UUID
    version: StrictInt


class TaskPayload(EventPayload):
    """A task as it stands after the change (`todo.task.*.v1`)."""

    id: uuid.UUID
    project_id: uuid.UUID | None = None  # whose members see it; None in events written before projects
    title: str
    description: str | None
    priority: StrictInt
    due_date: AwareDatetime | None
    completed: StrictBool
    completed_at: AwareDatetime | None
    notified: StrictBool
    recurring_task_id: uuid.UUID | None
    occurrence_at: AwareDatetime | None
    tags: list[str]
    reminder_minutes: list[Annotated[StrictInt, Field(ge=0)]] | None  # own leads; None: the owner's
    created_at: AwareDatetime
    updated_at: AwareDatetime
    checklist: list[ChecklistEntry] = []  # added in v1 with checklists


class ChecklistEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    text: str
    done: StrictBool


class ReminderSent(BaseModel):
    """The reminder that made a task come due (a due-soon or due event from the reminder clock)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: uuid.UUID
    kind: str
    minutes_before: StrictInt | None  # None for a snooze
    fire_at: AwareDatetime
    late: StrictBool


class DuePayload(TaskPayload):
    """A task coming due (`todo.task.due_soon.v1`, `todo.task.due.v1`, `todo.recurring_task.due.v1`):
    the task, and what brought it: a reminder, or a series' occurrence opening (`late_seconds`)."""

    reminder: ReminderSent | None = None
    late_seconds: float | None = None


class SeriesPayload(EventPayload):
    """A recurring series as it stands after the change (`todo.recurring_task.*.v1`)."""

    id: uuid.UUID
    project_id: uuid.UUID | None = None  # None in events written before projects
    title: str
    description: str | None
    priority: StrictInt
    tags: list[str]
    recurrence_type: str
    recurrence_interval: StrictInt
    rrule: str | None
    start_date: AwareDatetime
    end_date: AwareDatetime | None
    count: StrictInt | None
    timezone: str
    repeat_from: str
    is_active: StrictBool
    last_created_at: AwareDatetime | None
    next_due_at: AwareDatetime | None
    occurrences_created: StrictInt
    created_at: AwareDatetime
    updated_at: AwareDatetime
    checklist: list[str] = []  # each occurrence's items; added in v1 with checklists


P = TypeVar("P", bound=EventPayload)


class PayloadError(ValueError):
    """`data` does not hold its type's payload; `where` names the first field at fault."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where} {reason}")


def parse(model: type[P], data: dict[str, object]) -> P:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(["data", *(str(part) for part in first["loc"])])
        raise PayloadError(where, first["msg"].lower()) from exc


def written(payload: EventPayload) -> dict[str, object]:
    """The payload as the outbox stores it (JSON types only)."""
    return payload.model_dump(mode="json")
