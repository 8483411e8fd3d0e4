"""Reading the analytics projection for one user."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from todo.analytics.models import AnalyticsTask
from todo.analytics.stats import Stats, TaskFacts, compute
from todo.auth.models import User
from todo.timeutil import zone


async def get_stats(session: AsyncSession, *, user: User, now: datetime, days: int) -> Stats:
    rows = await session.execute(
        select(
            AnalyticsTask.created_at,
            AnalyticsTask.due_date,
            AnalyticsTask.completed_at,
            AnalyticsTask.deleted_at,
        ).where(AnalyticsTask.user_id == user.id)
    )
    facts = (TaskFacts(*row) for row in rows)
    return compute(facts, now=now, tz=zone(user.timezone), days=days)
