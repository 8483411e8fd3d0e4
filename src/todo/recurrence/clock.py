"""The recurrence clock: creates each occurrence of an active series a window ahead of its time, so it
is in view (and its reminders planned) before it is due.

Replicas share the work safely: each claims due series with `FOR UPDATE SKIP LOCKED`, so a series is
handled by one of them, and the unique key on (series, occurrence) backs that up.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from todo.auth.models import User
from todo.clock import Clock
from todo.platform.metrics import OCCURRENCES_CREATED
from todo.recurrence import service
from todo.recurrence.models import RecurringTask


def _waiting_for_the_clock() -> ColumnElement[bool]:
    """Series whose next occurrence the clock creates (a completion series' later ones come from
    completions: their `next_create_at` is empty)."""
    return and_(RecurringTask.is_active.is_(True), RecurringTask.next_create_at.is_not(None))


class OccurrenceClock:
    name = "recurrence"

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, *, batch_size: int = 200
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.batch_size = batch_size

    async def tick(self) -> bool:
        """Create the occurrences due now; True when a full batch was claimed (more may be waiting)."""
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            claimed = (
                await session.scalars(
                    select(RecurringTask)
                    .where(_waiting_for_the_clock(), RecurringTask.next_create_at <= now)
                    .order_by(RecurringTask.next_create_at)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not claimed:
                return False
            owners = await session.scalars(select(User).where(User.id.in_({s.user_id for s in claimed})))
            users = {user.id: user for user in owners}
            created = 0
            for series in claimed:
                user = users[series.user_id]
                created += len(
                    await service.create_ready(session, user=user, series=series, now=now, announce=True)
                )
        OCCURRENCES_CREATED.labels(trigger="schedule").inc(created)
        return len(claimed) == self.batch_size

    async def next_due(self) -> datetime | None:
        async with self.sessions() as session:
            return await session.scalar(
                select(func.min(RecurringTask.next_create_at)).where(_waiting_for_the_clock())
            )
