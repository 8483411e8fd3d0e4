"""/api/tasks: thin handlers that validate, call the service, commit once and shape the answer."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from todo.deps import (
    CurrentUser,
    NowDep,
    OneStatementSessionsDep,
    ReadSessionDep,
    SessionDep,
    SessionsDep,
)
from todo.platform.fields import Moment, Text
from todo.platform.pagination import Page, PageParams, page_params
from todo.tasks import checklist_service, listing, service
from todo.tasks.due_state import DueState
from todo.tasks.schemas import (
    ChecklistItem,
    ChecklistItemAdd,
    ChecklistItemPatch,
    TaskCreate,
    TaskEventRead,
    TaskPatch,
    TaskRead,
    TaskReplace,
    TaskSort,
    TaskStatus,
)
from todo.timeutil import to_utc

router = APIRouter(prefix="/api/tasks", tags=["tasks"])


async def task_filters(
    user: CurrentUser,
    status: TaskStatus = TaskStatus.all,
    due_state: DueState | None = None,
    priority: Annotated[int | None, Query(ge=1, le=3)] = None,
    tag: Annotated[Text | None, Query(max_length=50)] = None,
    q: Annotated[Text | None, Query(max_length=200, description="Text in title or description")] = None,
    due_after: Moment | None = None,
    due_before: Moment | None = None,
    sort: TaskSort = TaskSort.created_at_desc,
    project_id: Annotated[
        uuid.UUID | None, Query(description="One project's tasks; without it, those of all but archived ones")
    ] = None,
) -> listing.TaskFilters:
    return listing.TaskFilters(
        status=status,
        due_state=due_state,
        priority=priority,
        tag=tag,
        q=q,
        due_after=None if due_after is None else to_utc(due_after, user.timezone),
        due_before=None if due_before is None else to_utc(due_before, user.timezone),
        sort=sort,
        project_id=project_id,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TaskRead)
async def create_task(
    data: TaskCreate,
    user: CurrentUser,
    now: NowDep,
    sessions: SessionsDep,
    one_statement_sessions: OneStatementSessionsDep,
) -> TaskRead:
    # Into the Inbox the whole write is one statement (decision 66); into another project the check of
    # the user's role and the insert are one transaction
    into_inbox = data.project_id in (None, user.id)
    async with (one_statement_sessions if into_inbox else sessions)() as session:
        task = await service.create(session, user=user, data=data, now=now)
        await session.commit()
    return service.to_read(task, now)


@router.get("", response_model=Page[TaskRead])
async def list_tasks(
    user: CurrentUser,
    session: ReadSessionDep,
    now: NowDep,
    filters: Annotated[listing.TaskFilters, Depends(task_filters)],
    paging: Annotated[PageParams, Depends(page_params)],
) -> Page[TaskRead]:
    items, total = await listing.get_all(
        session, user=user, filters=filters, now=now, offset=paging.offset, limit=paging.page_size
    )
    return Page(
        items=items,
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.get("/{task_id}", response_model=TaskRead)
async def read_task(task_id: uuid.UUID, user: CurrentUser, session: ReadSessionDep, now: NowDep) -> TaskRead:
    return service.to_read(await service.get(session, user=user, task_id=task_id), now)


@router.put("/{task_id}", response_model=TaskRead)
async def replace_task(
    task_id: uuid.UUID, data: TaskReplace, user: CurrentUser, session: SessionDep, now: NowDep
) -> TaskRead:
    # The whole editable state as a patch that sets every field (`null` clearing what it may); already
    # validated as a TaskReplace, whose fields are the patch's, so not validated again
    patch = TaskPatch.model_construct(**data.model_dump())
    task = await service.update(session, user=user, task_id=task_id, patch=patch, now=now)
    await session.commit()
    return service.to_read(task, now)


@router.patch("/{task_id}", response_model=TaskRead)
async def patch_task(
    task_id: uuid.UUID, data: TaskPatch, user: CurrentUser, session: SessionDep, now: NowDep
) -> TaskRead:
    task = await service.update(session, user=user, task_id=task_id, patch=data, now=now)
    await session.commit()
    return service.to_read(task, now)


@router.post("/{task_id}/complete", response_model=TaskRead)
async def complete_task(task_id: uuid.UUID, user: CurrentUser, session: SessionDep, now: NowDep) -> TaskRead:
    task = await service.set_completed(session, user=user, task_id=task_id, completed=True, now=now)
    await session.commit()
    return service.to_read(task, now)


@router.post("/{task_id}/uncomplete", response_model=TaskRead)
async def uncomplete_task(
    task_id: uuid.UUID, user: CurrentUser, session: SessionDep, now: NowDep
) -> TaskRead:
    task = await service.set_completed(session, user=user, task_id=task_id, completed=False, now=now)
    await session.commit()
    return service.to_read(task, now)


@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_task(task_id: uuid.UUID, user: CurrentUser, session: SessionDep, now: NowDep) -> Response:
    await service.delete(session, user=user, task_id=task_id, now=now)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{task_id}/events", response_model=list[TaskEventRead])
async def task_history(task_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> list[TaskEventRead]:
    events = await service.history(session, user=user, task_id=task_id)
    return [
        TaskEventRead(
            id=e.id,
            seq=e.seq,
            topic=e.topic,
            type=e.type,
            event_type=e.event_type,
            time=e.created_at,
            published=e.published_at is not None,
            data=e.data,
        )
        for e in events
    ]


@router.get("/{task_id}/checklist", response_model=list[ChecklistItem])
async def read_checklist(
    task_id: uuid.UUID, user: CurrentUser, session: ReadSessionDep
) -> list[ChecklistItem]:
    """The task's checklist, in order."""
    items = await checklist_service.get(session, user=user, task_id=task_id)
    return [ChecklistItem.model_validate(item) for item in items]


@router.post("/{task_id}/checklist", status_code=status.HTTP_201_CREATED, response_model=ChecklistItem)
async def add_checklist_item(
    task_id: uuid.UUID, data: ChecklistItemAdd, user: CurrentUser, session: SessionDep, now: NowDep
) -> ChecklistItem:
    item = await checklist_service.add(session, user=user, task_id=task_id, data=data, now=now)
    await session.commit()
    return ChecklistItem.model_validate(item)


@router.patch("/{task_id}/checklist/{item_id}", response_model=ChecklistItem)
async def change_checklist_item(
    task_id: uuid.UUID,
    item_id: str,
    data: ChecklistItemPatch,
    user: CurrentUser,
    session: SessionDep,
    now: NowDep,
) -> ChecklistItem:
    """Check or uncheck it, rename it, move it."""
    item = await checklist_service.change(
        session, user=user, task_id=task_id, item_id=item_id, patch=data, now=now
    )
    await session.commit()
    return ChecklistItem.model_validate(item)


@router.delete("/{task_id}/checklist/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_checklist_item(
    task_id: uuid.UUID, item_id: str, user: CurrentUser, session: SessionDep, now: NowDep
) -> Response:
    await checklist_service.remove(session, user=user, task_id=task_id, item_id=item_id, now=now)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
