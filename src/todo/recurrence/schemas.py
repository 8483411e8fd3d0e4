"""What the recurring-task endpoints accept and answer (the spec's contract, plus rrule and friends)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from todo.auth.schemas import TimezoneName
from todo.platform.fields import Moment, Text
from todo.recurrence.engine import MAX_COUNT, MAX_INTERVAL, RecurrenceType, RepeatFrom
from todo.tasks.schemas import Checklist, Description, Priority, Tags, Title

SPEC_EXAMPLE: dict[str, JsonValue] = {
    "title": "Weekly Team Meeting",
    "description": "Standup with the team",
    "priority": 2,
    "recurrence_type": "weekly",
    "recurrence_interval": 1,
    "start_date": "2025-01-01T09:00:00Z",
    "end_date": "2025-12-31T09:00:00Z",
}
Interval = Annotated[int, Field(ge=1, le=MAX_INTERVAL, description="Every N days / weeks / months / years")]
Count = Annotated[int, Field(ge=1, le=MAX_COUNT, description="Stop after this many occurrences")]
RRule = Annotated[
    Text,
    Field(
        max_length=500,
        description="RFC 5545 RRULE, e.g. FREQ=MONTHLY;BYDAY=-1FR",
        examples=["FREQ=MONTHLY;BYDAY=-1FR"],
    ),
]


class SeriesFields(BaseModel):
    """Every field of a series; on create the ones without defaults are required."""

    model_config = ConfigDict(extra="forbid")

    title: Title
    description: Description | None = None
    priority: Priority = 2
    tags: Tags = Field(default_factory=list)
    recurrence_type: RecurrenceType | None = Field(
        default=None,
        description="daily, weekly, monthly or yearly; taken from rrule's FREQ when rrule is given",
    )
    recurrence_interval: Interval = 1
    start_date: Moment = Field(description="First occurrence; without an offset it is read in `timezone`")
    end_date: Moment | None = Field(default=None, description="No occurrence after this instant")
    rrule: RRule | None = None
    count: Count | None = None
    timezone: TimezoneName | None = Field(default=None, description="IANA zone; defaults to yours")
    repeat_from: RepeatFrom = RepeatFrom.schedule
    is_active: bool = True
    project_id: uuid.UUID | None = Field(default=None, description="A project you can edit; null: your Inbox")
    checklist: Checklist = Field(default_factory=list)


class RecurringTaskCreate(SeriesFields):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [SPEC_EXAMPLE]})


class RecurringTaskUpdate(BaseModel):
    """PUT: the fields present change, the others stay (so `{"is_active": false}` pauses)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"is_active": False}]})

    title: Title | None = None
    description: Description | None = None
    priority: Priority | None = None
    tags: Tags | None = None
    recurrence_type: RecurrenceType | None = None
    recurrence_interval: Interval | None = None
    start_date: Moment | None = None
    end_date: Moment | None = None
    rrule: RRule | None = None
    count: Count | None = None
    timezone: TimezoneName | None = None
    repeat_from: RepeatFrom | None = None
    is_active: bool | None = None
    project_id: uuid.UUID | None = Field(default=None, description="Move it (and its open occurrences)")
    checklist: Checklist | None = None

    def changes(self) -> dict[str, Any]:
        """The fields sent; `null` clears the optional ones and leaves the required ones as they are."""
        sent = self.model_dump(exclude_unset=True)
        clearable = {"description", "end_date", "rrule", "count", "timezone", "project_id"}
        return {k: v for k, v in sent.items() if v is not None or k in clearable}


class RecurringTaskRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    project_id: uuid.UUID
    title: str
    description: str | None
    priority: int
    tags: list[str]
    checklist: list[str]
    recurrence_type: RecurrenceType
    recurrence_interval: int
    rrule: str | None
    start_date: datetime
    end_date: datetime | None
    count: int | None
    timezone: str
    repeat_from: RepeatFrom
    last_created_at: datetime | None
    next_due_at: datetime | None = Field(
        description="The next occurrence still ahead, whether already created (a day ahead) or not"
    )
    is_active: bool
    occurrences_created: int
    version: int
    created_at: datetime
    updated_at: datetime


class OccurrencesRead(BaseModel):
    timezone: str
    occurrences: list[datetime] = Field(description="Upcoming due times, in UTC")
    local: list[datetime] = Field(description="The same instants in the series' time zone")
