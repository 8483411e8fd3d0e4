"""Quick add: read the text (`parser`), then make the task or the series with their own services."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy.ext.asyncio import AsyncSession

from todo.auth.models import User
from todo.errors import InvalidInput
from todo.quickadd import parser
from todo.quickadd.schemas import QuickAddPreview, Understood
from todo.recurrence import service as recurrence
from todo.recurrence.models import RecurringTask
from todo.recurrence.schemas import SeriesFields
from todo.tasks import service as tasks
from todo.tasks.models import Task
from todo.tasks.schemas import TaskCreate

DEFAULT_PRIORITY = 2


def preview(*, text: str, user: User, now: datetime) -> QuickAddPreview:
    """What the text says, read in the user's time zone; InvalidInput if it names no task."""
    read = parser.read(text, now=now, tz_name=user.timezone)
    if not read.title:
        raise InvalidInput("text", "says when, but not what: add a title")
    repeat = read.repeat
    return QuickAddPreview(
        kind="task" if repeat is None else "series",
        title=read.title,
        priority=read.priority or DEFAULT_PRIORITY,
        tags=read.tags,
        due_date=read.due,
        rrule=None if repeat is None else repeat.rrule,
        start_date=None if repeat is None else repeat.start,
        end_date=None if repeat is None else repeat.end,
        count=None if repeat is None else repeat.count,
        timezone=user.timezone,
        understood=[Understood(words=w, meaning=m) for w, m in read.understood],
        not_understood=read.not_understood,
    )


async def create(
    session: AsyncSession, *, user: User, text: str, now: datetime, project_id: uuid.UUID | None = None
) -> Task | RecurringTask:
    """The task or the series the text describes, made as `POST /api/tasks` or `/api/recurring-tasks`
    would make it."""
    said = preview(text=text, user=user, now=now)
    try:
        if said.kind == "task":
            data = TaskCreate(
                title=said.title,
                priority=said.priority,
                tags=said.tags,
                due_date=said.due_date,
                project_id=project_id,
            )
            return await tasks.create(session, user=user, data=data, now=now)
        fields = SeriesFields(
            title=said.title, priority=said.priority, tags=said.tags, rrule=said.rrule,
            start_date=said.start_date, end_date=said.end_date, count=said.count, timezone=said.timezone,
            project_id=project_id,
        )  # fmt: skip
    except ValidationError as exc:  # too long a title, too many tags: the text's fault, said so
        raise InvalidInput("text", _what_is_wrong(exc.errors(include_url=False)[0])) from exc
    return await recurrence.create(session, user=user, data=fields, now=now)


def _what_is_wrong(problem: ErrorDetails) -> str:
    where = ".".join(map(str, problem["loc"]))
    if where == "title" and problem["type"] == "string_too_long":
        return f"leaves a title longer than {problem['ctx']['max_length']} characters"
    if where == "tags" and problem["type"] == "too_long":
        return f"names more than {problem['ctx']['max_length']} tags"
    return f"gives a {where} that is not allowed: {problem['msg'].lower()}"
