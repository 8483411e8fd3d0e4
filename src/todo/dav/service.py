"""CalDAV use cases over the task and project services: who is asking, the calendars (projects), the
resources (tasks) of one, and putting or deleting one. None commits."""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from todo.auth import api_tokens
from todo.auth.models import User
from todo.dav import ical
from todo.dav.models import DavName
from todo.errors import Conflict, Forbidden, InvalidInput, NotFound
from todo.projects import service as projects
from todo.projects.schemas import ProjectRead
from todo.tasks import listing
from todo.tasks import service as tasks
from todo.tasks.schemas import TaskCreate, TaskPatch, TaskRead, TaskStatus

MOST_PER_CALENDAR = 1_000


@dataclass(frozen=True)
class Caller:
    user: User
    writes: bool


@dataclass(frozen=True)
class Resource:
    name: str
    uid: str | None  # None: ours
    task: TaskRead

    @property
    def etag(self) -> str:
        return f'"{self.task.id.hex[:12]}-{self.task.version}"'


async def authenticate(session: AsyncSession, *, authorization: str | None, now: datetime) -> Caller | None:
    """HTTP Basic with the account's email and one of its API tokens; None for anything else."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        email, _, token = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    found = (
        await api_tokens.authenticate(session, token=token, now=now)
        if token.startswith(api_tokens.PREFIX)
        else None
    )
    if found is None or found[0].email != email.strip().lower():
        return None
    return Caller(found[0], writes=found[1].scope == "write")


async def calendars(session: AsyncSession, caller: Caller) -> list[ProjectRead]:
    return await projects.get_all(session, user=caller.user, archived=False)


async def calendar(session: AsyncSession, caller: Caller, project_id: uuid.UUID) -> ProjectRead:
    return await projects.get(session, user=caller.user, project_id=project_id)


async def resources(
    session: AsyncSession, caller: Caller, project_id: uuid.UUID, now: datetime
) -> list[Resource]:
    """The project's tasks, done or not, each under its name."""
    filters = listing.TaskFilters(status=TaskStatus.all, project_id=project_id)
    found, _ = await listing.get_all(session, user=caller.user, filters=filters, now=now, offset=0,
                                   limit=MOST_PER_CALENDAR)  # fmt: skip
    names = {
        row.task_id: row
        for row in await session.scalars(select(DavName).where(DavName.project_id == project_id))
    }
    return [_resource(task, names.get(task.id)) for task in found]


def ctag(found: list[Resource]) -> str:
    """Changes whenever a resource of the calendar does (a client then asks which)."""
    return hashlib.sha256("".join(sorted(r.etag for r in found)).encode()).hexdigest()[:16]


async def put(
    session: AsyncSession,
    caller: Caller,
    project_id: uuid.UUID,
    name: str,
    body: bytes,
    *,
    if_match: str | None,
    if_none_match: str | None = None,
    now: datetime,
) -> tuple[Resource, bool]:
    """Make or change the task at `name` as the VTODO says; whether it was made. The HTTP preconditions
    are checked against what is there: `If-Match` a stale ETag, or `If-None-Match: *` on an existing
    resource, is a Conflict (412)."""
    if not caller.writes:
        raise Forbidden("this API token may only read: make one with the write scope to sync changes")
    await projects.get(session, user=caller.user, project_id=project_id)
    try:
        sent = ical.read(body, tz_name=caller.user.timezone)
    except ValueError as exc:
        raise InvalidInput("body", str(exc)) from exc
    existing = await _find(session, caller, project_id, name, now)
    if existing is None:
        return await _make(session, caller, project_id, name, sent, now), True
    if if_none_match == "*":
        raise Conflict("a resource of that name exists already")
    if if_match is not None and if_match not in ("*", existing.etag):
        raise Conflict(f"the task was changed meanwhile: its ETag is {existing.etag}")
    patch = TaskPatch(title=sent.title, description=sent.description, due_date=sent.due,
                      priority=sent.priority, completed=sent.completed)  # fmt: skip
    task = await tasks.update(session, user=caller.user, task_id=existing.task.id, patch=patch, now=now)
    return Resource(name, existing.uid, tasks.to_read(task, now)), False


async def _make(
    session: AsyncSession,
    caller: Caller,
    project_id: uuid.UUID,
    name: str,
    sent: ical.SentTodo,
    now: datetime,
) -> Resource:
    data = TaskCreate(title=sent.title, description=sent.description, due_date=sent.due,
                      priority=sent.priority, project_id=project_id)  # fmt: skip
    task = await tasks.create(session, user=caller.user, data=data, now=now)
    if sent.completed:
        task = await tasks.set_completed(session, user=caller.user, task_id=task.id, completed=True, now=now)
    session.add(DavName(task_id=task.id, project_id=project_id, name=name, uid=sent.uid))
    await session.flush()
    return Resource(name, sent.uid, tasks.to_read(task, now))


async def get(
    session: AsyncSession, caller: Caller, project_id: uuid.UUID, name: str, now: datetime
) -> Resource:
    await projects.get(session, user=caller.user, project_id=project_id)
    found = await _find(session, caller, project_id, name, now)
    if found is None:
        raise NotFound("no such resource")
    return found


async def delete(
    session: AsyncSession, caller: Caller, project_id: uuid.UUID, name: str, now: datetime
) -> None:
    if not caller.writes:
        raise Forbidden("this API token may only read: make one with the write scope to sync changes")
    found = await get(session, caller, project_id, name, now)
    await tasks.delete(session, user=caller.user, task_id=found.task.id, now=now)


async def _find(
    session: AsyncSession, caller: Caller, project_id: uuid.UUID, name: str, now: datetime
) -> Resource | None:
    named = await session.scalar(
        select(DavName).where(DavName.project_id == project_id, DavName.name == name)
    )
    task_id = named.task_id if named is not None else _our_id(name)
    if task_id is None:
        return None
    try:
        task = await tasks.get(session, user=caller.user, task_id=task_id)
    except NotFound:
        return None
    if task.project_id != project_id:
        return None
    return _resource(tasks.to_read(task, now), named)


def _resource(task: TaskRead, named: DavName | None) -> Resource:
    if named is not None:
        return Resource(named.name, named.uid, task)
    return Resource(f"{task.id}.ics", None, task)


def _our_id(name: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(name.removesuffix(".ics"))
    except ValueError:
        return None
