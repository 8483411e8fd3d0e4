"""/api/recurring-tasks: the spec's contract, plus occurrence previews."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from todo.deps import CurrentUser, NowDep, SessionDep
from todo.platform.pagination import Page, PageParams, page_params
from todo.recurrence import service
from todo.recurrence.engine import Schedule
from todo.recurrence.schemas import (
    OccurrencesRead,
    RecurringTaskCreate,
    RecurringTaskRead,
    RecurringTaskUpdate,
)
from todo.timeutil import zone

router = APIRouter(prefix="/api/recurring-tasks", tags=["recurring tasks"])
Limit = Annotated[int, Query(ge=1, le=100, description="How many occurrences")]


def _occurrences(schedule: Schedule, instants: list[datetime]) -> OccurrencesRead:
    tz = zone(schedule.timezone)
    return OccurrencesRead(
        timezone=schedule.timezone, occurrences=instants, local=[i.astimezone(tz) for i in instants]
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=RecurringTaskRead)
async def create_series(
    data: RecurringTaskCreate, user: CurrentUser, session: SessionDep, now: NowDep
) -> RecurringTaskRead:
    series = await service.create(session, user=user, data=data, now=now)
    await session.commit()
    return service.to_read(series, now)


@router.post("/preview", response_model=OccurrencesRead)
async def preview_series(data: RecurringTaskCreate, user: CurrentUser, limit: Limit = 5) -> OccurrencesRead:
    """The first occurrences of a series, before saving it."""
    schedule = await service.build_schedule(data, default_timezone=user.timezone)
    return _occurrences(schedule, service.preview(schedule, limit=limit))


@router.get("", response_model=Page[RecurringTaskRead])
async def list_series(
    user: CurrentUser,
    session: SessionDep,
    now: NowDep,
    paging: Annotated[PageParams, Depends(page_params)],
) -> Page[RecurringTaskRead]:
    rows, total = await service.get_all(session, user=user, offset=paging.offset, limit=paging.page_size)
    return Page(
        items=[service.to_read(r, now) for r in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.get("/{series_id}", response_model=RecurringTaskRead)
async def read_series(
    series_id: uuid.UUID, user: CurrentUser, session: SessionDep, now: NowDep
) -> RecurringTaskRead:
    return service.to_read(await service.get(session, user=user, series_id=series_id), now)


@router.put("/{series_id}", response_model=RecurringTaskRead)
async def update_series(
    series_id: uuid.UUID, data: RecurringTaskUpdate, user: CurrentUser, session: SessionDep, now: NowDep
) -> RecurringTaskRead:
    series = await service.update(session, user=user, series_id=series_id, patch=data, now=now)
    await session.commit()
    return service.to_read(series, now)


@router.delete("/{series_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_series(
    series_id: uuid.UUID, user: CurrentUser, session: SessionDep, now: NowDep
) -> Response:
    await service.delete(session, user=user, series_id=series_id, now=now)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{series_id}/occurrences", response_model=OccurrencesRead)
async def series_occurrences(
    series_id: uuid.UUID, user: CurrentUser, session: SessionDep, now: NowDep, limit: Limit = 5
) -> OccurrencesRead:
    """The next due times of the series, starting with `next_due_at`."""
    series = await service.get(session, user=user, series_id=series_id)
    schedule = service.schedule_of(series)
    return _occurrences(schedule, service.upcoming(series, now=now, limit=limit))
