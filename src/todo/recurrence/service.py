"""Recurring-task use cases: define a series, change it, preview it, create its occurrences."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select
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
from todo.events.payloads import DuePayload, SeriesPayload
from todo.projects import access
from todo.projects.models import ProjectMember
from todo.recurrence import engine
from todo.recurrence.engine import RecurrenceError, RecurrenceType, RepeatFrom, Schedule
from todo.recurrence.models import RecurringTask
from todo.recurrence.schemas import RecurringTaskRead, RecurringTaskUpdate, SeriesFields
from todo.tasks import service as tasks
from todo.tasks.due_state import DUE_SOON_WINDOW
from todo.tasks.models import Task
from todo.tasks.schemas import TaskCreate, TaskPatch
from todo.timeutil import to_utc

SCHEDULE_FIELDS = frozenset(
    {"recurrence_type", "recurrence_interval", "start_date", "end_date", "rrule", "count", "timezone"}
)
CONTENT_FIELDS = (
    "title",
    "description",
    "priority",
    "tags",
    "project_id",
    "checklist",
)  # what an occurrence copies from its series


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


async def build_schedule(fields: SeriesFields, *, default_timezone: str) -> Schedule:
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


def _schedule_from(fields: SeriesFields, *, default_timezone: str) -> Schedule:
    tz = fields.timezone or default_timezone
    kind, interval, rule = fields.recurrence_type, fields.recurrence_interval, fields.rrule
    try:
        if rule:
            rule, summary = engine.parse_rrule(rule)
            if kind is not None and kind is not summary.recurrence_type:
                raise RecurrenceError(
                    "recurrence_type", f"is {kind} but rrule says {summary.recurrence_type}"
                )
            kind, interval = summary.recurrence_type, summary.interval
        if kind is None:
            raise RecurrenceError("recurrence_type", "is required unless rrule is given")
        schedule = Schedule(
            recurrence_type=kind,
            interval=interval,
            start=to_utc(fields.start_date, tz),
            timezone=tz,
            end=None if fields.end_date is None else to_utc(fields.end_date, tz),
            count=fields.count,
            rrule=rule or None,
        )
    except RecurrenceError as exc:
        raise InvalidInput(exc.field, exc.reason) from exc
    return schedule


def preview(schedule: Schedule, *, limit: int) -> list[datetime]:
    return engine.occurrences(schedule, limit=limit)


def upcoming(series: RecurringTask, *, now: datetime, limit: int) -> list[datetime]:
    """The series' next due times, starting with its next one still ahead (none once it has ended)."""
    first = next_due(series, now)
    if first is None:
        return []
    return engine.occurrences(schedule_of(series), after=first - timedelta(microseconds=1), limit=limit)


def next_due(series: RecurringTask, now: datetime) -> datetime | None:
    """The due time of the series' next occurrence still ahead: the one already created ahead of its
    time if there is one, else the next the clock will create."""
    last = series.last_occurrence_at
    return last if last is not None and last > now else series.next_due_at


def to_read(series: RecurringTask, now: datetime) -> RecurringTaskRead:
    read = RecurringTaskRead.model_validate(series)
    return read.model_copy(update={"next_due_at": next_due(series, now)})


def ahead_window(user: User) -> timedelta:
    """How long before its due time an occurrence is created: the due-soon window, or the owner's
    longest reminder lead when that is longer, so that every lead can be planned."""
    return max(DUE_SOON_WINDOW, timedelta(minutes=max(user.reminder_minutes, default=0)))


async def create(session: AsyncSession, *, user: User, data: SeriesFields, now: datetime) -> RecurringTask:
    project_id = await _project_for(session, user, data.project_id)
    schedule = await build_schedule(data, default_timezone=user.timezone)
    series = RecurringTask(
        id=uuid.uuid4(),
        user_id=user.id,
        project_id=project_id,
        title=data.title,
        description=data.description,
        priority=data.priority,
        tags=sorted(set(data.tags)),
        checklist=data.checklist,
        repeat_from=data.repeat_from.value,
        is_active=data.is_active,
        occurrences_created=0,
        created_at=now,
        updated_at=now,
    )
    _set_schedule(series, schedule)
    series.next_due_at = engine.latest_at_or_before(schedule, now) or engine.first(schedule)
    _plan_next(series, window=ahead_window(user))
    session.add(series)
    await session.flush()
    await create_ready(session, user=user, series=series, now=now)  # the current one, and the next
    await _emit(session, SERIES_CREATED, series)
    wakeups.after_commit(session, wakeups.SERIES)
    return series


async def create_ready(
    session: AsyncSession, *, user: User, series: RecurringTask, now: datetime, announce: bool = False
) -> list[Task]:
    """Create the occurrences whose creation time has come: the latest one at or before now, and the
    next one when its window ahead has opened. Occurrences missed before the latest (downtime) are
    skipped, not flooded. With `announce`, one created at or after its due time is announced as due:
    its reminders' times have passed."""
    latest = engine.latest_at_or_before(schedule_of(series), now)
    if series.repeat_from == RepeatFrom.schedule and series.next_due_at is not None and latest is not None:
        series.next_due_at = max(series.next_due_at, latest)
    created: list[Task] = []
    while series.next_create_at is not None and series.next_create_at <= now:
        task = await create_occurrence(session, user=user, series=series, now=now)
        created.append(task)
        late = (now - task.occurrence_at).total_seconds() if task.occurrence_at is not None else -1.0
        if announce and late >= 0:
            due = DuePayload.model_validate(task).model_copy(update={"late_seconds": round(late, 3)})
            await tasks.emit(session, RECURRING_TASK_DUE, task, at=now, carrying=due)
    return created


async def create_occurrence(
    session: AsyncSession, *, user: User, series: RecurringTask, now: datetime
) -> Task:
    """Create the task for `series.next_due_at` and move the series on to the occurrence after it."""
    due = series.next_due_at
    assert due is not None, "an active series always has a next occurrence"
    content = {name: getattr(series, name) for name in CONTENT_FIELDS}
    task = await tasks.create(
        session,
        user=user,
        data=TaskCreate.model_validate(content | {"due_date": due}),
        now=now,
        recurring_task_id=series.id,
        occurrence_at=due,
    )
    series.occurrences_created += 1
    series.last_created_at = now
    series.last_occurrence_at = due
    if series.repeat_from == RepeatFrom.schedule:
        series.next_due_at = engine.next_after(schedule_of(series), due)
    # A repeat-from-completion series keeps next_due_at on its open occurrence until that is completed.
    if series.next_due_at is None or series.occurrences_created == series.count:
        series.is_active = False  # the last occurrence has been created
    _plan_next(series, window=ahead_window(user))
    return task


def _plan_next(series: RecurringTask, *, window: timedelta) -> None:
    """When the clock creates `next_due_at`: `window` before it, but not before the latest occurrence has
    come due, so that at most one occurrence waits ahead. A completion series' later occurrences come
    from completions, not from the clock."""
    due, last = series.next_due_at, series.last_occurrence_at
    from_clock = series.repeat_from == RepeatFrom.schedule or series.occurrences_created == 0
    if due is None or not series.is_active or not from_clock:
        series.next_create_at = None
    else:
        series.next_create_at = due - window if last is None else max(due - window, last)


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


async def _project_for(session: AsyncSession, user: User, project_id: uuid.UUID | None) -> uuid.UUID:
    """Where a series made or moved by `user` goes: a project the user can edit, or the user's Inbox."""
    if project_id is None or project_id == user.id:
        return user.id
    await access.require(session, user_id=user.id, project_id=project_id, write=True)
    return project_id


async def get(
    session: AsyncSession, *, user: User, series_id: uuid.UUID, for_update: bool = False, write: bool = False
) -> RecurringTask:
    """A series of one of the user's projects; `write` refuses a viewer."""
    member = and_(ProjectMember.project_id == RecurringTask.project_id, ProjectMember.user_id == user.id)
    query = (
        select(RecurringTask, ProjectMember.role)
        .join(ProjectMember, member)
        .where(RecurringTask.id == series_id)
    )
    if for_update:
        query = query.with_for_update(of=RecurringTask)
    found = (await session.execute(query)).one_or_none()
    if found is None:
        raise NotFound("recurring task not found")
    series, role = found
    access.check(role, write=write, what="recurring task")
    return series


async def get_all(
    session: AsyncSession, *, user: User, offset: int, limit: int
) -> tuple[Sequence[RecurringTask], int]:
    where = RecurringTask.project_id.in_(access.member_projects(user.id, archived=False))
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
    session: AsyncSession, *, user: User, series_id: uuid.UUID, patch: RecurringTaskUpdate, now: datetime
) -> RecurringTask:
    series = await get(session, user=user, series_id=series_id, for_update=True, write=True)
    current = RecurringTaskRead.model_validate(series).model_dump()
    asked = patch.changes()
    if "project_id" in asked:
        asked["project_id"] = await _project_for(session, user, asked["project_id"])
    changed = {k: v for k, v in asked.items() if current.get(k) != v}
    if not changed:
        return series
    for name in ("title", "description", "priority", "repeat_from", "project_id", "checklist"):
        if name in changed:
            setattr(series, name, changed[name])
    if "tags" in changed:
        series.tags = sorted(set(changed["tags"]))
    if SCHEDULE_FIELDS & changed.keys():
        if "rrule" in changed and changed["rrule"] is not None and "recurrence_type" not in changed:
            current["recurrence_type"] = None  # let the new rule decide the frequency
        merged = {k: v for k, v in (current | changed).items() if k in SeriesFields.model_fields}
        fields = SeriesFields.model_construct(**merged)  # both halves validated already
        _set_schedule(series, await build_schedule(fields, default_timezone=user.timezone))
    resumed = changed.get("is_active") is True
    if "is_active" in changed:
        series.is_active = changed["is_active"]
    if (SCHEDULE_FIELDS | {"is_active", "repeat_from"}) & changed.keys():
        await _remove_future_occurrences(session, user=user, series=series, now=now)
        await _reschedule(session, user=user, series=series, now=now)
        if resumed and not series.is_active:
            raise InvalidInput("is_active", "the series has no further occurrences to resume")
    elif content := {k: v for k, v in changed.items() if k in CONTENT_FIELDS}:
        for task in await _future_occurrences(session, series, now=now):
            await tasks.update(session, user=user, task_id=task.id, patch=TaskPatch(**content), now=now)
    series.version += 1
    series.updated_at = now
    await _emit(session, SERIES_UPDATED, series)
    wakeups.after_commit(session, wakeups.SERIES)
    return series


async def delete(session: AsyncSession, *, user: User, series_id: uuid.UUID, now: datetime) -> None:
    """Delete the series and its occurrence waiting ahead; the tasks whose time has come stay, as
    ordinary tasks."""
    series = await get(session, user=user, series_id=series_id, for_update=True, write=True)
    await _remove_future_occurrences(session, user=user, series=series, now=now)
    series.version += 1
    series.updated_at = now
    await _emit(session, SERIES_DELETED, series)
    await session.delete(series)


async def _future_occurrences(
    session: AsyncSession, series: RecurringTask, *, now: datetime
) -> Sequence[Task]:
    """The open occurrences created ahead of their time (a completed one is the user's record: it stays)."""
    query = select(Task).where(
        Task.recurring_task_id == series.id, Task.occurrence_at > now, Task.completed.is_(False)
    )
    return (await session.scalars(query)).all()


async def _remove_future_occurrences(
    session: AsyncSession, *, user: User, series: RecurringTask, now: datetime
) -> None:
    """A paused, rescheduled or deleted series takes back the occurrence it created ahead; what it
    still holds afterwards is the latest occurrence left."""
    future = await _future_occurrences(session, series, now=now)
    for task in future:
        await tasks.delete(session, user=user, task_id=task.id, now=now)
    if future:
        await session.flush()
        series.last_occurrence_at = await session.scalar(
            select(func.max(Task.occurrence_at)).where(Task.recurring_task_id == series.id)
        )


async def _reschedule(session: AsyncSession, *, user: User, series: RecurringTask, now: datetime) -> None:
    """After a schedule change, a pause or a resume, continue from now: never back-fill missed
    occurrences. The next one is created at once when its window ahead is already open."""
    last = series.last_occurrence_at
    after = max(last, now) if last is not None else now - timedelta(microseconds=1)
    series.next_due_at = engine.next_after(schedule_of(series), after)
    if series.next_due_at is None:
        series.is_active = False
    _plan_next(series, window=ahead_window(user))
    if series.is_active:
        await create_ready(session, user=user, series=series, now=now)


def _set_schedule(series: RecurringTask, schedule: Schedule) -> None:
    series.recurrence_type = schedule.recurrence_type.value
    series.recurrence_interval = schedule.interval
    series.rrule = schedule.rrule
    series.start_date = schedule.start
    series.end_date = schedule.end
    series.count = schedule.count
    series.timezone = schedule.timezone


async def _emit(session: AsyncSession, kind: EventKind, series: RecurringTask) -> None:
    # next_due_at as the API answers it at the change: the series' state, not the reader's clock
    payload = SeriesPayload.model_validate(series).model_copy(
        update={"next_due_at": next_due(series, series.updated_at)}
    )
    event = outbox.NewEvent(
        kind, entity="recurring_task", subject=series.id, payload=payload, at=series.updated_at
    )
    await outbox.record(session, [event])
