"""Task use cases. Each writes its event into the outbox in the caller's transaction; none commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Insert,
    String,
    Table,
    and_,
    bindparam,
    func,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, make_transient_to_detached

from todo.auth.models import User
from todo.db import dialect_of
from todo.errors import Conflict, NotFound
from todo.events import outbox
from todo.events.envelope import (
    TASK_COMPLETED,
    TASK_CREATED,
    TASK_DELETED,
    TASK_UNCOMPLETED,
    TASK_UPDATED,
    EventKind,
)
from todo.events.models import TaskEvent
from todo.events.payloads import TaskPayload
from todo.projects import access
from todo.projects.models import ProjectMember
from todo.tasks import checklist
from todo.tasks.listing import answer
from todo.tasks.models import Task, TaskTag
from todo.tasks.schemas import TaskCreate, TaskPatch, TaskRead
from todo.timeutil import to_utc

_TASKS: Table = Task.__table__  # type: ignore[assignment]  # Tables: plain Core statements
_TAGS: Table = TaskTag.__table__  # type: ignore[assignment]
_INSERT_TASK = insert(_TASKS)
_INSERT_TAG = insert(_TAGS)


def _creation_in_one_statement() -> Insert:
    """PostgreSQL: the new task, its tags and its `task-created` event in one statement (the first two as
    data-modifying CTEs): one round trip and one statement for the server where there were three, a
    sixth of a creation request's CPU on both sides. Parameters: `task_<column>`, `tags`, `event_<column>`.
    """
    events: Table = TaskEvent.__table__  # type: ignore[assignment]
    task = insert(_TASKS).values({c: bindparam(f"task_{c.key}", type_=c.type) for c in _TASKS.c}).cte("task")
    tag_rows = select(
        bindparam("task_id_for_tags", type_=_TAGS.c.task_id.type),
        func.unnest(bindparam("tags", type_=ARRAY(String()))),
    )
    tags = insert(_TAGS).from_select(["task_id", "tag"], tag_rows).cte("tags")
    event_values = {c: bindparam(f"event_{c.key}", type_=c.type) for c in events.c if c.key in outbox.COLUMNS}
    created = insert(events).values({**event_values, events.c.publish_attempts: 0})
    return created.add_cte(task, tags)


_CREATE_ON_POSTGRES = _creation_in_one_statement()


def to_read(task: Task, now: datetime) -> TaskRead:
    return answer(task, task.tags, now)


def event(
    kind: EventKind, task: Task, *, at: datetime | None = None, carrying: TaskPayload | None = None
) -> outbox.NewEvent:
    """`kind` about `task`, carrying the task as it now stands in the kind's payload (or `carrying`, that
    with more filled in). `at` is when it happened; by default the task's last change."""
    payload = carrying or kind.payload.model_validate(task)
    return outbox.NewEvent(kind, entity="task", subject=task.id, payload=payload, at=at or task.updated_at)


async def emit(
    session: AsyncSession,
    kind: EventKind,
    task: Task,
    *,
    at: datetime | None = None,
    carrying: TaskPayload | None = None,
) -> None:
    """Write `kind` about `task` into the outbox, in the caller's transaction."""
    await outbox.record(session, [event(kind, task, at=at, carrying=carrying)])


async def create(
    session: AsyncSession,
    *,
    user: User,
    data: TaskCreate,
    now: datetime,
    recurring_task_id: uuid.UUID | None = None,
    occurrence_at: datetime | None = None,
) -> Task:
    """A new task in `data.project_id` (which the user must be able to edit) or the user's Inbox. A
    series' occurrence goes where its series is, checked when the series was put there."""
    project_id = data.project_id or user.id  # the Inbox's id is its owner's
    if project_id != user.id and recurring_task_id is None:
        await access.require(session, user_id=user.id, project_id=project_id, write=True)
    task_id = uuid.uuid4()
    task = Task(
        id=task_id,
        user_id=user.id,
        project_id=project_id,
        title=data.title,
        description=data.description,
        priority=data.priority,
        due_date=_due(data.due_date, user),
        reminder_minutes=data.reminder_minutes,
        checklist=checklist.fresh(data.checklist),
        recurring_task_id=recurring_task_id,
        occurrence_at=occurrence_at,
        completed=False,
        completed_at=None,
        notified=False,
        version=1,
        created_at=now,
        updated_at=now,
        tag_rows=[TaskTag(task_id=task_id, tag=t) for t in _unique(data.tags)],
    )
    await _insert(session, task, event(TASK_CREATED, task))  # every field is set in Python: nothing to read
    return task


async def _insert(session: AsyncSession, task: Task, created: outbox.NewEvent) -> None:
    """INSERT a new task, its tags and its creation event as statements, then hand the session the objects
    as if just loaded. The unit of work's flush of a new object graph was a quarter of a creation
    request's time."""
    if dialect_of(session) == "postgresql":
        parameters = {f"task_{key}": value for key, value in _columns(task).items()}
        parameters |= {f"event_{key}": value for key, value in outbox.row(session, created).items()}
        tags = {"task_id_for_tags": task.id, "tags": [row.tag for row in task.tag_rows]}
        await session.execute(_CREATE_ON_POSTGRES, parameters | tags)
        outbox.announce(session, [created])
    else:
        await session.execute(_INSERT_TASK, _columns(task))
        if task.tag_rows:
            await session.execute(_INSERT_TAG, [_columns(row) for row in task.tag_rows])
        await outbox.record(session, [created])
    for written in (task, *task.tag_rows):
        make_transient_to_detached(written)
    session.add(task)  # persistent, not pending: later changes in this transaction become UPDATEs


def _columns(row: Task | TaskTag) -> dict[str, Any]:
    """Every column's value, all of them set in Python (a KeyError names one left out: the database's
    default would never reach the object, and reading it would then need a query)."""
    return {column.key: row.__dict__[column.key] for column in row.__table__.columns}


async def get(
    session: AsyncSession, *, user: User, task_id: uuid.UUID, for_update: bool = False, write: bool = False
) -> Task:
    """A task of one of the caller's projects, with its tags, in one statement (the relationship's own
    load is a second round trip, a sixth of an update's); `for_update` locks the task's row, not its
    tags'; `write` refuses a viewer."""
    member = and_(ProjectMember.project_id == Task.project_id, ProjectMember.user_id == user.id)
    query = (
        select(Task, ProjectMember.role)
        .join(ProjectMember, member)
        .options(joinedload(Task.tag_rows))
        .where(Task.id == task_id)
    )
    if for_update:
        query = query.with_for_update(of=Task)
    found = (await session.execute(query)).unique().one_or_none()
    if found is None:
        raise NotFound("task not found")
    task, role = found
    access.check(role, write=write, what="task")
    return task


async def update(
    session: AsyncSession,
    *,
    user: User,
    task_id: uuid.UUID,
    patch: TaskPatch,
    now: datetime,
) -> Task:
    """Apply what `patch` sets (and, when it names a version, only to that version); emit one event if
    anything changed."""
    task = await get(session, user=user, task_id=task_id, for_update=True, write=True)
    if patch.version is not None and patch.version != task.version:
        raise Conflict(f"task was changed meanwhile: version is {task.version}, not {patch.version}")
    if "project_id" in patch.model_fields_set:
        patch = await _moving(session, user, patch)
    completed = patch.completed
    edited = _apply_edits(task, patch, user)
    if completed is not None and completed != task.completed:
        return await _set_completed(session, task, completed=completed, now=now)
    if edited:
        touch(task, now)
        await emit(session, TASK_UPDATED, task)
    return task


async def _moving(session: AsyncSession, user: User, patch: TaskPatch) -> TaskPatch:
    """A patch moving the task to another project, which the user must be able to edit (`null`: the
    user's own Inbox)."""
    target = patch.project_id or user.id
    if target != user.id:
        await access.require(session, user_id=user.id, project_id=target, write=True)
    return patch.model_copy(update={"project_id": target})


async def set_completed(
    session: AsyncSession, *, user: User, task_id: uuid.UUID, completed: bool, now: datetime
) -> Task:
    task = await get(session, user=user, task_id=task_id, for_update=True, write=True)
    if task.completed == completed:
        return task  # completing a completed task is a no-op, not an error
    return await _set_completed(session, task, completed=completed, now=now)


async def delete(session: AsyncSession, *, user: User, task_id: uuid.UUID, now: datetime) -> None:
    task = await get(session, user=user, task_id=task_id, for_update=True, write=True)
    touch(task, now)
    await emit(session, TASK_DELETED, task)
    await session.delete(task)


async def history(session: AsyncSession, *, user: User, task_id: uuid.UUID) -> Sequence[TaskEvent]:
    """The task's events, oldest first; kept after the task itself is deleted, for the members of the
    project it was last in (or its maker, once that project is gone too)."""
    rows = await session.scalars(
        select(TaskEvent)
        .where(TaskEvent.subject == task_id, TaskEvent.entity == "task")
        .order_by(TaskEvent.seq)
    )
    events = rows.all()
    if not events:
        raise NotFound("task not found")
    last = TaskPayload.model_validate(events[-1].data)
    project_id = last.project_id or last.user_id  # before projects, every task was in its maker's Inbox
    if await access.role_in(session, user_id=user.id, project_id=project_id) is not None:
        return events
    if last.user_id == user.id and not await access.exists(session, project_id):
        return events  # its project was deleted with it: the history stays its maker's
    raise NotFound("task not found")


async def _set_completed(session: AsyncSession, task: Task, *, completed: bool, now: datetime) -> Task:
    task.completed = completed
    task.completed_at = now if completed else None
    touch(task, now)
    await emit(session, TASK_COMPLETED if completed else TASK_UNCOMPLETED, task)
    return task


def _apply_edits(task: Task, patch: TaskPatch, user: User) -> bool:
    edited = False
    for name, value in patch.edits().items():
        if name == "tags":
            tags = _unique(value or [])
            if tags != task.tags:
                task.tag_rows = [TaskTag(tag=t) for t in sorted(tags)]
                edited = True
            continue
        if name == "checklist":
            if value != checklist.texts(task.checklist) or any(item["done"] for item in task.checklist):
                task.checklist = checklist.fresh(value)
                edited = True
            continue
        if name == "due_date":
            value = _due(value, user)
            if value != task.due_date:
                task.notified = False  # a new due time earns a new reminder
        if getattr(task, name) != value:
            setattr(task, name, value)
            edited = True
    return edited


def touch(task: Task, now: datetime) -> None:
    """Mark `task` changed at `now`: its version moves on."""
    task.version += 1
    task.updated_at = now


def _due(value: datetime | None, user: User) -> datetime | None:
    return None if value is None else to_utc(value, user.timezone)


def _unique(tags: list[str]) -> list[str]:
    return sorted(set(tags))
