"""/api/me/calendar-feed (make, look at, revoke your feed) and /api/calendar/{token}.ics (the feed)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from todo.calendar import service
from todo.config import Settings
from todo.deps import CurrentUser, NowDep, SessionDep, SettingsDep

router = APIRouter(tags=["calendar"])


class FeedMade(BaseModel):
    url: str = Field(description="Subscribe to this in your calendar app (GET shows it again)")
    created_at: datetime


class FeedState(BaseModel):
    active: bool
    url: str | None = Field(description="Your feed's URL; null when there is none (or it was made before "
                            "URLs could be shown again: make a new one)")  # fmt: skip
    created_at: datetime | None
    last_read_at: datetime | None = Field(description="When a calendar app last fetched it")


@router.post("/api/me/calendar-feed", status_code=status.HTTP_201_CREATED, response_model=FeedMade)
async def make_feed(
    request: Request, user: CurrentUser, session: SessionDep, settings: SettingsDep, now: NowDep
) -> FeedMade:
    """A private feed URL of your open tasks and series; making a new one revokes the old one."""
    token = await service.create(session, user=user, secret=_secret(settings), now=now)
    await session.commit()
    return FeedMade(url=str(request.url_for("calendar_feed", token=token)), created_at=now)


@router.get("/api/me/calendar-feed", response_model=FeedState)
async def feed_state(
    request: Request, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> FeedState:
    found = await service.get(session, user=user)
    if found is None:
        return FeedState(active=False, url=None, created_at=None, last_read_at=None)
    token = service.token_of(found, secret=_secret(settings))
    url = None if token is None else str(request.url_for("calendar_feed", token=token))
    return FeedState(active=True, url=url, created_at=found.created_at, last_read_at=found.last_read_at)


def _secret(settings: Settings) -> str:
    assert settings.jwt_secret is not None, "ensure_jwt_secret runs before the app is built"
    return settings.jwt_secret.get_secret_value()


@router.delete("/api/me/calendar-feed", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_feed(user: CurrentUser, session: SessionDep) -> Response:
    await service.revoke(session, user=user)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/api/calendar/{token}.ics", name="calendar_feed", response_class=Response)
async def calendar_feed(token: str, session: SessionDep, now: NowDep) -> Response:
    """The feed: no sign-in, the token in the URL is the key (keep it private; revoke it if it leaks)."""
    body = await service.document(session, token=token, now=now)
    await session.commit()  # when it was last read
    headers = {"Cache-Control": "private, max-age=300", "Content-Disposition": 'inline; filename="todo.ics"'}
    return Response(body, media_type="text/calendar; charset=utf-8", headers=headers)
