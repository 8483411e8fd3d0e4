"""The reminder schedule: kept from the task events, so the clock knows what to send and when.

Each task event replans the task's pending reminders from its snapshot: leads that still apply keep
their row, the others are cancelled, new ones are added. Events older than the last one applied (by
task `version`) change nothing, whatever order the broker delivers them in.
"""

from __future__ import annotations

import functools
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, Executable, Insert, Table, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from todo import wakeups
from todo.auth.models import User
from todo.db import dialect_of, insert_or_merge
from todo.events.consumers import Consumer, SetStatement
from todo.events.envelope import (
    TASK_CREATED,
    TASK_DELETED,
    TASK_TYPES,
    CloudEvent,
    Topic,
    parse_datetime,
)
from todo.events.payloads import TaskPayload
from todo.notifications.models import Reminder, ReminderSource, ReminderState
from todo.notifications.schedule import PlannedReminder, ReminderKind, plan


@dataclass(frozen=True)
class _Change:
    """A task event as the schedule reads it."""

    event: CloudEvent
    task: TaskPayload
    finished: bool  # deleted or completed

    @classmethod
    def of(cls, event: CloudEvent) -> _Change:
        task = event.payload_as(TaskPayload)
        return cls(event, task, finished=event.type == TASK_DELETED.type or task.completed)

    @property
    def task_id(self) -> uuid.UUID:
        return self.task.id

    @property
    def version(self) -> int:
        return self.task.version

    @property
    def due(self) -> datetime | None:
        """None once finished: nothing left to remind of."""
        return None if self.finished else self.task.due_date


def _newest_changes(events: Sequence[CloudEvent]) -> list[_Change]:
    """Each task's newest event of the batch (replanning from it leaves what replanning from each in
    order would); every task event is validated, superseded or not."""
    newest: dict[uuid.UUID, _Change] = {}
    for event in events:
        if event.type not in TASK_TYPES:
            continue  # series events share the topics
        change = _Change.of(event)
        kept = newest.get(change.task_id)
        if kept is None or kept.version < change.version:
            newest[change.task_id] = change
    return list(newest.values())


async def handle_batch(events: Sequence[CloudEvent], session: AsyncSession) -> None:
    changes = await _advance_sources(session, _newest_changes(events))
    if not changes:
        return
    pending: dict[uuid.UUID, list[Reminder]] = defaultdict(list)
    # A task's creation is the first change the schedule sees of it: it has no reminders to look up yet
    changed = [c.task_id for c in changes if c.event.type != TASK_CREATED.type]
    if changed:
        query = select(Reminder).where(Reminder.task_id.in_(changed), Reminder.state == ReminderState.pending)
        for reminder in await session.scalars(query):
            pending[reminder.task_id].append(reminder)
    # The owner matters only to a task with a due time or reminders (its default leads; gone: none)
    owners = await _owners(session, [c for c in changes if c.due is not None or pending[c.task_id]])
    added = [_replan_task(session, change, pending[change.task_id], owners) for change in changes]
    if earliest := min(filter(None, added), default=None):
        # A new one may be due before the clock's next wake; if not, the clock sleeps on (TimedLoop.wake)
        wakeups.after_commit(session, wakeups.REMINDERS, earliest.isoformat())


async def handle(event: CloudEvent, session: AsyncSession) -> None:
    await handle_batch([event], session)


async def _advance_sources(session: AsyncSession, changes: list[_Change]) -> list[_Change]:
    """Record each task's newest version, in one statement that also tells which changes are newer than
    what the schedule was built from (and locks their rows); the others are stale or repeated."""
    if not changes:
        return []
    rows = [{"task_id": c.task_id, "version": c.version} for c in changes]
    advanced = set(await session.scalars(_advance(dialect_of(session)), rows))
    return [c for c in changes if c.task_id in advanced]


@functools.cache
def _advance(dialect: str) -> Executable:
    return _newer_wins(insert_or_merge(dialect, ReminderSource)).returning(ReminderSource.task_id)


def in_one_statement(events: Sequence[CloudEvent]) -> SetStatement | None:
    """Creations with no due time have nothing to remind of: the schedule only records their versions, in
    one statement. Any other change reads the task's pending reminders: the transaction. Decided from
    the events' types and due times alone, so a batch that goes to the transaction is parsed once."""
    if any(e.type in TASK_TYPES and (e.type != TASK_CREATED.type or e.payload_as(TaskPayload).due_date)
           for e in events):  # fmt: skip
        return None
    return SetStatement(_ADVANCE_ARRAYS, lambda: _as_arrays(_newest_changes(events)))


def _as_arrays(changes: list[_Change]) -> dict[str, Any]:
    return {
        "reminders_task_id": [c.task_id for c in changes],
        "reminders_version": [c.version for c in changes],
    }


def _advance_arrays() -> Insert:
    """PostgreSQL: `_advance` for rows given as one array per column (`reminders_<column>`), returning
    nothing."""
    table: Table = ReminderSource.__table__  # type: ignore[assignment]
    arrays = [bindparam(f"reminders_{c}", type_=ARRAY(table.c[c].type)) for c in ("task_id", "version")]
    rows = func.unnest(*arrays).table_valued("task_id", "version").render_derived()
    return _newer_wins(postgresql.insert(table).from_select(["task_id", "version"], select(*rows.c)))


def _newer_wins(insert: postgresql.Insert | sqlite.Insert) -> postgresql.Insert | sqlite.Insert:
    return insert.on_conflict_do_update(
        index_elements=[ReminderSource.task_id],
        set_={"version": insert.excluded.version},
        where=ReminderSource.version < insert.excluded.version,
    )


_ADVANCE_ARRAYS = _advance_arrays()


async def _owners(session: AsyncSession, changes: list[_Change]) -> dict[uuid.UUID, User]:
    """The owners whose default leads these changes need."""
    ids = {c.event.user_id for c in changes}
    if not ids:
        return {}
    return {user.id: user for user in await session.scalars(select(User).where(User.id.in_(ids)))}


def _replan_task(
    session: AsyncSession, change: _Change, pending: list[Reminder], owners: dict[uuid.UUID, User]
) -> datetime | None:
    finished, due = change.finished, change.due
    owner = owners.get(change.event.user_id)
    if owner is None and (due is not None or pending):
        finished, due = True, None  # the account is gone: nothing left to remind anyone of
    leads = change.task.reminder_minutes  # its own; None: its owner's defaults
    if leads is None:
        leads = list(owner.reminder_minutes) if owner is not None else []
    wanted = plan(due, leads, changed_at=change.task.updated_at)
    return _replan(session, change, pending, wanted, finished=finished, due=due)


def _replan(
    session: AsyncSession,
    change: _Change,
    pending: list[Reminder],
    wanted: list[PlannedReminder],
    *,
    finished: bool,
    due: datetime | None,
) -> datetime | None:
    """Cancel the pending reminders no longer wanted, add the new ones; the earliest added one's time."""
    wanted_keys = {(p.kind.value, p.minutes_before, p.fire_at) for p in wanted}
    kept: set[tuple[str, int | None, object]] = set()
    for reminder in list(pending):
        key = (reminder.kind, reminder.minutes_before, reminder.fire_at)
        still_wanted = key in wanted_keys or (reminder.kind == ReminderKind.snooze and not finished)
        if still_wanted:
            reminder.task_version = change.version
            kept.add(key)
        else:
            reminder.state = ReminderState.cancelled
            pending.remove(reminder)
    earliest: datetime | None = None
    for planned in wanted:
        if (planned.kind.value, planned.minutes_before, planned.fire_at) in kept:
            continue
        earliest = min(earliest or planned.fire_at, planned.fire_at)
        reminder = Reminder(
            id=uuid.uuid4(),
            task_id=change.task_id,
            user_id=change.task.user_id,
            kind=planned.kind.value,
            minutes_before=planned.minutes_before,
            due_at=due,
            fire_at=planned.fire_at,
            state=ReminderState.pending,
            task_version=change.version,
            created_at=parse_datetime(change.event.time, "time"),
        )
        session.add(reminder)
        pending.append(reminder)
    return earliest


reminder_schedule_consumer = Consumer(
    name="notifications-reminders",
    topics=(Topic.task_created, Topic.task_updated, Topic.task_completed, Topic.task_deleted),
    handle=handle,
    handle_batch=handle_batch,
    in_one_statement=in_one_statement,
)
