"""Recurring-task use cases: define a series, change it, preview it, create its occurrences."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from todo import wakeups
from todo.auth.models import User
from todo.errors import InvalidInput, NotFound
from todo.events import outbox
from todo.events.envelope import (
    RECURRING_TASK_DUE,
    SERIES_CREATED,
    SERIES_DELETED,
    SERIES_UPDATED,
    EventKind,
)
from todo.recurrence import engine
from todo.recurrence.engine import RecurrenceError, RecurrenceType, RepeatFrom, Schedule
from todo.recurrence.models import RecurringTask
from todo.recurrence.schemas import RecurringTaskRead, SeriesFields
from todo.tasks import service as tasks
from todo.tasks.models import Task
from todo.timeutil import to_utc

SCHEDULE_FIELDS = frozenset(
    {"recurrence_type", "recurrence_interval", "start_date", "end_date", "rrule", "count", "timezone"}
)


def schedule_of(series: RecurringTask) -> Schedule:
    return Schedule(
        recurrence_type=RecurrenceType(series.recurrence_type),
        interval=series.recurrence_interval,
        start=series.start_date,
        timezone=series.timezone,
        end=series.end_date,
        count=series.count,
        rrule=series.rrule,
    )


# Some rules look fine and match nothing (FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30); dateutil then searches to
# the year 9999, seconds of CPU. Validation runs in a thread with a deadline so one request cannot stall all.
VALIDATION_SECONDS = 1.0


async def build_schedule(fields: dict[str, Any], *, default_timezone: str) -> Schedule:
    """Validate the schedule fields together; the InvalidInput names the field at fault."""
    schedule = _schedule_from(fields, default_timezone=default_timezone)
    try:
        await asyncio.wait_for(asyncio.to_thread(engine.validate, schedule), timeout=VALIDATION_SECONDS)
    except RecurrenceError as exc:
        raise InvalidInput(exc.field, exc.reason) from exc
    except TimeoutError as exc:
        raise InvalidInput(
            "rrule", "the rule finds no occurrence; check its BY... parts fit together"
        ) from exc
    return schedule


def _schedule_from(fields: dict[str, Any], *, default_timezone: str) -> Schedule:
    tz = fields.get("timezone") or default_timezone
    kind, interval, rule = (
        fields.get("recurrence_type"),
        fields.get("recurrence_interval") or 1,
        fields.get("rrule"),
    )
    try:
        if rule:
            rule, summary = engine.parse_rrule(rule)
            if kind is not None and RecurrenceType(kind) is not summary.recurrence_type:
                raise RecurrenceError(
                    "recurrence_type", f"is {kind} but rrule says {summary.recurrence_type}"
                )
            kind, interval = summary.recurrence_type, summary.interval
        if kind is None:
            raise RecurrenceError("recurrence_type", "is required unless rrule is given")
        schedule = Schedule(
            recurrence_type=RecurrenceType(kind),
            interval=interval,
            start=to_utc(fields["start_date"], tz),
            timezone=tz,
            end=None if fields.get("end_date") is None else to_utc(fields["end_date"], tz),
            count=fields.get("count"),
            rrule=rule or None,
        )
    except RecurrenceError as exc:
        raise InvalidInput(exc.field, exc.reason) from exc
    return schedule


def preview(schedule: Schedule, *, limit: int) -> list[datetime]:
    return engine.occurrences(schedule, limit=limit)


def upcoming(series: RecurringTask, *, limit: int) -> list[datetime]:
    """The series' next due times, starting with `next_due_at` (none once it has ended)."""
    if series.next_due_at is None:
        return []
    return engine.occurrences(
        schedule_of(series), after=series.next_due_at - timedelta(microseconds=1), limit=limit
    )


async def create(session: AsyncSession, *, user: User, data: SeriesFields, now: datetime) -> RecurringTask:
    fields = data.model_dump()
    schedule = await build_schedule(fields, default_timezone=user.timezone)
    series = RecurringTask(
        id=uuid.uuid4(),
        user_id=user.id,
        title=data.title,
        description=data.description,
        priority=data.priority,
        tags=sorted(set(data.tags)),
        repeat_from=data.repeat_from.value,
        is_active=data.is_active,
        created_at=now,
        updated_at=now,
    )
    _set_schedule(series, schedule)
    series.next_due_at = engine.latest_at_or_before(schedule, now) or engine.first(schedule)
    session.add(series)
    await session.flush()
    if series.is_active and series.next_due_at is not None and series.next_due_at <= now:
        await create_occurrence(session, user=user, series=series, now=now)  # the current one
    await _emit(session, SERIES_CREATED, series)
    wakeups.after_commit(session, wakeups.SERIES)
    return series


async def create_occurrence(
    session: AsyncSession, *, user: User, series: RecurringTask, now: datetime
) -> Task:
    """Create the task for `series.next_due_at` and move the series on to the occurrence after it."""
    due = series.next_due_at
    assert due is not None, "an active series always has a next occurrence"
    task = await tasks.create(
        session,
        user=user,
        fields={
            "title": series.title,
            "description": series.description,
            "priority": series.priority,
            "due_date": due,
            "tags": series.tags,
        },
        now=now,
        recurring_task_id=series.id,
        occurrence_at=due,
    )
    series.occurrences_created += 1
    series.last_created_at = now
    if series.repeat_from == RepeatFrom.schedule:
        series.next_due_at = engine.next_after(schedule_of(series), due)
    # A repeat-from-completion series keeps next_due_at on its open occurrence until that is completed.
    if series.next_due_at is None or series.occurrences_created == series.count:
        series.is_active = False  # the last occurrence has been created
    return task


async def create_due_occurrence(
    session: AsyncSession, *, user: User, series: RecurringTask, now: datetime
) -> Task:
    """The recurrence clock's step: create the occurrence whose time has come and announce it. After
    downtime only the latest missed occurrence is created; the ones before it are skipped, not flooded."""
    assert series.next_due_at is not None, "the clock claims only series with a due occurrence"
    latest = engine.latest_at_or_before(schedule_of(series), now)
    if series.repeat_from == RepeatFrom.schedule and latest is not None and latest > series.next_due_at:
        series.next_due_at = latest
    task = await create_occurrence(session, user=user, series=series, now=now)
    late = (now - task.due_date).total_seconds() if task.due_date is not None else 0.0
    await tasks.emit(session, RECURRING_TASK_DUE, task, at=now, extra={"late_seconds": round(late, 3)})
    return task


async def create_after_completion(
    session: AsyncSession, *, series: RecurringTask, occurrence: Task, now: datetime
) -> Task | None:
    """For a repeat-from-completion series whose latest occurrence was completed: create the next one,
    due one interval after the completion. Completing an older occurrence again creates nothing."""
    latest = await session.scalar(
        select(func.max(Task.occurrence_at)).where(Task.recurring_task_id == series.id)
    )
    if not series.is_active or occurrence.completed_at is None or occurrence.occurrence_at != latest:
        return None
    due = engine.after_completion(schedule_of(series), occurrence.completed_at)
    if due is None:
        series.is_active = False
        return None
    user = await session.get(User, series.user_id)
    assert user is not None, "a series is deleted with its user"
    series.next_due_at = due
    return await create_occurrence(session, user=user, series=series, now=now)


async def get(
    session: AsyncSession, *, user: User, series_id: uuid.UUID, for_update: bool = False
) -> RecurringTask:
    query = select(RecurringTask).where(RecurringTask.id == series_id, RecurringTask.user_id == user.id)
    if for_update:
        query = query.with_for_update()
    series = await session.scalar(query)
    if series is None:
        raise NotFound("recurring task not found")
    return series


async def get_all(
    session: AsyncSession, *, user: User, offset: int, limit: int
) -> tuple[Sequence[RecurringTask], int]:
    where = RecurringTask.user_id == user.id
    total = await session.scalar(select(func.count()).select_from(RecurringTask).where(where))
    rows = await session.scalars(
        select(RecurringTask)
        .where(where)
        .order_by(RecurringTask.created_at.desc(), RecurringTask.id)
        .offset(offset)
        .limit(limit)
    )
    return rows.all(), total or 0


async def update(
    session: AsyncSession, *, user: User, series_id: uuid.UUID, changes: dict[str, Any], now: datetime
) -> RecurringTask:
    series = await get(session, user=user, series_id=series_id, for_update=True)
    current = RecurringTaskRead.model_validate(series).model_dump()
    changed = {k: v for k, v in changes.items() if current.get(k) != v}
    if not changed:
        return series
    for name in ("title", "description", "priority", "repeat_from"):
        if name in changed:
            setattr(series, name, changed[name])
    if "tags" in changed:
        series.tags = sorted(set(changed["tags"]))
    if SCHEDULE_FIELDS & changed.keys():
        if "rrule" in changed and changed["rrule"] is not None and "recurrence_type" not in changed:
            current["recurrence_type"] = None  # let the new rule decide the frequency
        _set_schedule(series, await build_schedule({**current, **changed}, default_timezone=user.timezone))
    resumed = changed.get("is_active") is True
    if "is_active" in changed:
        series.is_active = changed["is_active"]
    if SCHEDULE_FIELDS & changed.keys() or resumed:
        await _reschedule(session, series, now=now)
        if resumed and not series.is_active:
            raise InvalidInput("is_active", "the series has no further occurrences to resume")
    series.version += 1
    series.updated_at = now
    await _emit(session, SERIES_UPDATED, series)
    wakeups.after_commit(session, wakeups.SERIES)
    return series


async def delete(session: AsyncSession, *, user: User, series_id: uuid.UUID, now: datetime) -> None:
    """Delete the series; tasks it already created stay, as ordinary tasks."""
    series = await get(session, user=user, series_id=series_id, for_update=True)
    series.version += 1
    series.updated_at = now
    await _emit(session, SERIES_DELETED, series)
    await session.delete(series)


async def _reschedule(session: AsyncSession, series: RecurringTask, *, now: datetime) -> None:
    """After a schedule change or a resume, continue from now: never back-fill missed occurrences."""
    last = await session.scalar(
        select(func.max(Task.occurrence_at)).where(Task.recurring_task_id == series.id)
    )
    after = max(last, now) if last is not None else now - timedelta(microseconds=1)
    series.next_due_at = engine.next_after(schedule_of(series), after)
    if series.next_due_at is None:
        series.is_active = False


def _set_schedule(series: RecurringTask, schedule: Schedule) -> None:
    series.recurrence_type = schedule.recurrence_type.value
    series.recurrence_interval = schedule.interval
    series.rrule = schedule.rrule
    series.start_date = schedule.start
    series.end_date = schedule.end
    series.count = schedule.count
    series.timezone = schedule.timezone


async def _emit(session: AsyncSession, kind: EventKind, series: RecurringTask) -> None:
    data = RecurringTaskRead.model_validate(series).model_dump(mode="json")
    await outbox.record(
        session,
        [
            outbox.NewEvent(
                kind,
                entity="recurring_task",
                subject=series.id,
                user_id=series.user_id,
                data=data,
                at=series.updated_at,
            )
        ],
    )
