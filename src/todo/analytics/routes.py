"""/api/stats: what the analytics consumer has learned from the task events."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from todo.analytics import service
from todo.deps import CurrentUser, NowDep, SessionDep

router = APIRouter(prefix="/api/stats", tags=["analytics"])


class DayRead(BaseModel):
    date: date
    created: int
    completed: int
    overdue: int


class StatsRead(BaseModel):
    timezone: str
    totals: dict[str, int]
    current_streak: int
    longest_streak: int
    days: list[DayRead]


@router.get("", response_model=StatsRead)
async def read_stats(
    user: CurrentUser,
    session: SessionDep,
    now: NowDep,
    days: Annotated[int, Query(ge=1, le=366, description="How many days back, today included")] = 30,
) -> StatsRead:
    """Counts per day in your time zone (created, completed, went overdue) and your completion streak."""
    stats = await service.get_stats(session, user=user, now=now, days=days)
    return StatsRead(
        timezone=user.timezone,
        totals=stats.totals,
        current_streak=stats.current_streak,
        longest_streak=stats.longest_streak,
        days=[
            DayRead(date=d.date, created=d.created, completed=d.completed, overdue=d.overdue)
            for d in stats.days
        ],
    )
