"""What quick add accepts and what its preview answers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from todo.platform.fields import NoNul
from todo.recurrence.schemas import RecurringTaskRead
from todo.tasks.schemas import TaskRead

QuickText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), NoNul]


class QuickAddIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "Pay rent every last day of the month at 9am #home !1"}]},
    )

    text: QuickText = Field(description="A task in plain words: title, when, repeats, #tags, !1-!3")
    project_id: uuid.UUID | None = Field(default=None, description="Where it goes; null: your Inbox")


class Understood(BaseModel):
    words: str = Field(description="The words, as typed")
    meaning: str = Field(description="What they were read as")


class QuickAddMade(BaseModel):
    """What `POST /api/quick-add` made, named by `kind`, as its own endpoint answers it."""

    kind: Literal["task", "series"]
    task: TaskRead | None = Field(default=None, description="The task made (kind `task`)")
    series: RecurringTaskRead | None = Field(default=None, description="The series made (kind `series`)")


class QuickAddPreview(BaseModel):
    """What `POST /api/quick-add` would make of the text: a task or a series, and how each part was read."""

    kind: Literal["task", "series"]
    title: str
    priority: int
    tags: list[str]
    due_date: datetime | None = Field(description="A task's due time, in your time zone")
    rrule: str | None = Field(description="A series' rule (RFC 5545), without its time of day")
    start_date: datetime | None = Field(description="A series' first occurrence, in your time zone")
    end_date: datetime | None
    count: int | None
    timezone: str
    understood: list[Understood]
    not_understood: list[str] = Field(
        description="Words that looked like a date or a repeat: left in the title"
    )
