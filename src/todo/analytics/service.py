"""Reading the analytics projection for one user."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from todo.analytics.models import AnalyticsTask
from todo.analytics.stats import Stats, TaskFacts, compute
from todo.auth.models import User
from todo.projects.access import member_projects
from todo.timeutil import zone


async def get_stats(session: AsyncSession, *, user: User, now: datetime, days: int) -> Stats:
    rows = await session.execute(
        select(
            AnalyticsTask.created_at,
            AnalyticsTask.due_date,
            AnalyticsTask.completed_at,
            AnalyticsTask.deleted_at,
        ).where(_visible_to(user))
    )
    facts = (TaskFacts(*row) for row in rows)
    return compute(facts, now=now, tz=zone(user.timezone), days=days)


def _visible_to(user: User) -> ColumnElement[bool]:
    """The tasks of the user's projects as they are now (a shared project's count for every member);
    one last heard of before projects was in its owner's Inbox, whose id is the owner's."""
    project = func.coalesce(AnalyticsTask.project_id, AnalyticsTask.user_id)
    return project.in_(member_projects(user.id))
