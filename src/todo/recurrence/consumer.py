"""Repeat-from-completion: completing a series' latest occurrence creates the next one."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from todo.events.consumers import Consumer
from todo.events.envelope import TASK_COMPLETED, CloudEvent, Topic, parse_datetime
from todo.events.payloads import TaskPayload
from todo.platform.metrics import OCCURRENCES_CREATED
from todo.recurrence import service
from todo.recurrence.engine import RepeatFrom
from todo.recurrence.models import RecurringTask
from todo.tasks.models import Task


async def handle(event: CloudEvent, session: AsyncSession) -> None:
    if event.type != TASK_COMPLETED.type:
        return
    completed = event.payload_as(TaskPayload)
    if completed.recurring_task_id is None:
        return
    series = await session.get(RecurringTask, completed.recurring_task_id, with_for_update=True)
    if series is None or series.repeat_from != RepeatFrom.completion.value:
        return
    occurrence = await session.get(Task, completed.id)
    if occurrence is None or not occurrence.completed:
        return  # deleted or reopened since: nothing to follow up
    now = parse_datetime(event.time, "time") or occurrence.updated_at
    if await service.create_after_completion(session, series=series, occurrence=occurrence, now=now):
        OCCURRENCES_CREATED.labels(trigger="completion").inc()


completion_consumer = Consumer(name="recurrence-completion", topics=(Topic.task_completed,), handle=handle)
