"""Checklist use cases: add, change (rename, check, move) and remove an item. Each is a change of the task:
its version moves on and a `task-updated` event carries the checklist as it now stands. None commits."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from todo.auth.models import User
from todo.errors import InvalidInput, NotFound
from todo.events.envelope import TASK_UPDATED
from todo.tasks import checklist, service
from todo.tasks.checklist import ChecklistError, Item
from todo.tasks.models import Task
from todo.tasks.schemas import ChecklistItemAdd, ChecklistItemPatch

T = TypeVar("T")


async def get(session: AsyncSession, *, user: User, task_id: uuid.UUID) -> list[Item]:
    return (await service.get(session, user=user, task_id=task_id)).checklist


async def add(
    session: AsyncSession, *, user: User, task_id: uuid.UUID, data: ChecklistItemAdd, now: datetime
) -> Item:
    return await _changing(
        session, user, task_id, now, lambda items: checklist.add(items, data.text, data.position)
    )


async def change(
    session: AsyncSession,
    *,
    user: User,
    task_id: uuid.UUID,
    item_id: str,
    patch: ChecklistItemPatch,
    now: datetime,
) -> Item:
    def changed(items: list[Item]) -> tuple[list[Item], Item]:
        return checklist.change(items, item_id, text=patch.text, done=patch.done, position=patch.position)

    return await _changing(session, user, task_id, now, changed)


async def remove(
    session: AsyncSession, *, user: User, task_id: uuid.UUID, item_id: str, now: datetime
) -> None:
    def removed(items: list[Item]) -> tuple[list[Item], None]:
        return checklist.remove(items, item_id), None

    await _changing(session, user, task_id, now, removed)


async def _changing(
    session: AsyncSession,
    user: User,
    task_id: uuid.UUID,
    now: datetime,
    operation: Callable[[list[Item]], tuple[list[Item], T]],
) -> T:
    """Apply `operation` to the task's checklist as one change of the task; what it returns besides."""
    task: Task = await service.get(session, user=user, task_id=task_id, for_update=True, write=True)
    try:
        task.checklist, result = operation(task.checklist)
    except KeyError as exc:
        raise NotFound("checklist item not found") from exc
    except ChecklistError as exc:
        raise InvalidInput(exc.field, str(exc)) from exc
    service.touch(task, now)
    await service.emit(session, TASK_UPDATED, task)
    return result
