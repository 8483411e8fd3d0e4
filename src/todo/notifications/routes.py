"""/api/notifications: the in-app inbox."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from todo.deps import CurrentUser, NowDep, SessionDep
from todo.notifications import service
from todo.notifications.schemas import NotificationRead, UnreadCount
from todo.platform.pagination import Page, PageParams, page_params

router = APIRouter(prefix="/api/notifications", tags=["notifications"])


@router.get("", response_model=Page[NotificationRead])
async def list_notifications(
    user: CurrentUser,
    session: SessionDep,
    paging: Annotated[PageParams, Depends(page_params)],
    unread: bool = False,
) -> Page[NotificationRead]:
    """Newest first; `unread=true` leaves out what you have read."""
    rows, total = await service.get_all(
        session, user=user, unread_only=unread, offset=paging.offset, limit=paging.page_size
    )
    items = [NotificationRead.model_validate(n) for n in rows]
    return Page(items=items, total=total, page=paging.page, page_size=paging.page_size)


@router.get("/unread-count", response_model=UnreadCount)
async def count_unread(user: CurrentUser, session: SessionDep) -> UnreadCount:
    return UnreadCount(unread=await service.unread_count(session, user=user))


@router.post("/{notification_id}/read", response_model=NotificationRead)
async def read_one(
    notification_id: uuid.UUID, user: CurrentUser, session: SessionDep, now: NowDep
) -> NotificationRead:
    notification = await service.mark_read(session, user=user, notification_id=notification_id, now=now)
    await session.commit()
    return NotificationRead.model_validate(notification)


@router.post("/read-all", response_model=UnreadCount)
async def read_all(user: CurrentUser, session: SessionDep, now: NowDep) -> UnreadCount:
    await service.mark_all_read(session, user=user, now=now)
    await session.commit()
    return UnreadCount(unread=0)
