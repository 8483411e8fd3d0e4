"""What the task endpoints accept and answer."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from todo.platform.fields import Moment, NoNul, ReminderMinutes
from todo.tasks.checklist import MOST_ITEMS
from todo.tasks.due_state import DueState

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoNul]
Description = Annotated[str, StringConstraints(max_length=10_000), NoNul]
Tag = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=50), NoNul
]
Tags = Annotated[list[Tag], Field(max_length=20)]
Priority = Annotated[int, Field(ge=1, le=3, description="1 = high, 2 = medium, 3 = low")]
DueDate = Annotated[
    Moment,
    Field(
        description="ISO 8601; without an offset it is read in your time zone",
        examples=["2025-01-15T17:00:00Z"],
    ),
]


ItemText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoNul]
Checklist = Annotated[
    list[ItemText], Field(max_length=MOST_ITEMS, description="Checklist items in order, each unchecked")
]
CLEARABLE = ("description", "due_date", "reminder_minutes")


class TaskCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"title": "Complete report", "due_date": "2025-01-15T17:00:00Z"}]},
    )

    title: Title
    description: Description | None = None
    priority: Priority = 2
    due_date: DueDate | None = None
    tags: Tags = Field(default_factory=list)
    reminder_minutes: ReminderMinutes | None = Field(
        default=None, description="Minutes before the due time to remind; null: your default"
    )
    project_id: uuid.UUID | None = Field(default=None, description="A project you can edit; null: your Inbox")
    checklist: Checklist = Field(default_factory=list)


class TaskReplace(TaskCreate):
    """PUT: the whole editable state. `version`, when given, must match (optimistic concurrency)."""

    completed: bool = False
    version: int | None = Field(default=None, ge=1)


class TaskPatch(BaseModel):
    """PATCH: only the fields present change; `null` clears description or due_date."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    description: Description | None = None
    priority: Priority | None = None
    due_date: DueDate | None = None
    tags: Tags | None = None
    reminder_minutes: ReminderMinutes | None = None
    project_id: uuid.UUID | None = Field(default=None, description="Move it to this project (you edit both)")
    checklist: Checklist | None = Field(
        default=None, description="Replace the checklist: these items, unchecked"
    )
    completed: bool | None = None
    version: int | None = Field(default=None, ge=1)

    def edits(self) -> dict[str, Any]:
        """The fields sent, but for `completed` and `version`; `null` clears description, due_date or
        reminder_minutes (back to your default) and leaves the others as they are."""
        sent = self.model_dump(exclude_unset=True, exclude={"version", "completed"})
        return {k: v for k, v in sent.items() if v is not None or k in CLEARABLE}


class TaskRead(BaseModel):
    id: uuid.UUID
    project_id: uuid.UUID
    title: str
    description: str | None
    priority: int
    due_date: datetime | None
    due_state: DueState
    completed: bool
    completed_at: datetime | None
    notified: bool
    recurring_task_id: uuid.UUID | None
    occurrence_at: datetime | None
    tags: list[str]
    reminder_minutes: list[int] | None
    checklist: list[ChecklistItem]
    version: int
    created_at: datetime
    updated_at: datetime


class ChecklistItem(BaseModel):
    id: str
    text: str
    done: bool


class ChecklistItemAdd(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"text": "Buy the paint"}]})

    text: ItemText
    position: int | None = Field(default=None, ge=0, description="Where (0 is the top); the end by default")


class ChecklistItemPatch(BaseModel):
    """The fields present change: rename, check or uncheck, move."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"done": True}]})

    text: ItemText | None = None
    done: bool | None = None
    position: int | None = Field(default=None, ge=0, description="Move it here (0 is the top)")


class TaskStatus(StrEnum):
    all = "all"
    open = "open"
    completed = "completed"


class TaskSort(StrEnum):
    due_date = "due_date"
    due_date_desc = "-due_date"
    priority = "priority"
    priority_desc = "-priority"
    created_at = "created_at"
    created_at_desc = "-created_at"
    completed_at_desc = "-completed_at"  # most recently completed first


class TaskEventRead(BaseModel):
    """One entry of a task's history: the CloudEvent as written to the outbox."""

    id: uuid.UUID
    seq: int
    topic: str
    type: str
    event_type: str
    time: datetime
    published: bool
    data: dict[str, object]
