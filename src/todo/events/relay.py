"""The outbox relay: publishes unpublished events in order, woken on commit, resumable after a crash.

Only one relay publishes at a time (the leader), so events of one task leave in the order they were
written. On PostgreSQL leadership is a session advisory lock held on a dedicated connection; it is
released by the server if this process dies. On SQLite there is only one process. Commits anywhere wake
the relay through `todo.wakeups` (a callback here, NOTIFY from other processes). A published batch is
marked so by the relay's next read (decision 93).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Row, Select, Table, all_, any_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from todo.clock import Clock
from todo.events.envelope import CloudEvent
from todo.events.models import TaskEvent
from todo.events.transport import Publisher
from todo.platform.metrics import (
    EVENT_HOP_SECONDS,
    EVENTS_PUBLISHED,
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST_AGE,
    PUBLISH_FAILURES,
)
from todo.scheduling import TimedLoop

ADVISORY_LOCK_KEY = 0x70D0_0E1A  # "todo relay"
MARK_WITHIN_SECONDS = 0.1  # a published batch is marked by the next read, at the latest this much later
# Built once (Core, on the table): the relay runs them for every batch, and a statement built anew is
# analysed anew before SQLAlchemy finds its compiled form.
_OUTBOX: Table = TaskEvent.__table__  # type: ignore[assignment]
_PUBLISHED_COLUMNS = [_OUTBOX.c[name] for name in ("seq", "id", "source", "type", "subject", "created_at",
                                                   "topic", "data")]  # fmt: skip
_UNPUBLISHED = (
    select(*_PUBLISHED_COLUMNS)
    .where(_OUTBOX.c.published_at.is_(None))
    .order_by(_OUTBOX.c.seq)
    .limit(bindparam("batch"))
)
_PUBLISHED = (
    update(_OUTBOX)
    .where(_OUTBOX.c.seq.in_(bindparam("seqs", expanding=True)))
    .values(published_at=bindparam("at"))
)


def _unpublished_marking_published() -> Select[Any]:
    """PostgreSQL: the marks of the batch just published and the read of the next, one round trip. The
    read sees the table as it was before the marks (one snapshot), so it leaves the marked ones out."""
    marked = bindparam("seqs", type_=ARRAY(BigInteger))
    mark = update(_OUTBOX).where(_OUTBOX.c.seq == any_(marked)).values(published_at=bindparam("at"))
    return _UNPUBLISHED.where(_OUTBOX.c.seq != all_(marked)).add_cte(mark.cte("marked"))


_UNPUBLISHED_MARKING_PUBLISHED = _unpublished_marking_published()


@dataclass(frozen=True)
class _Marks:
    """Events published and not yet marked so: marked with the next read, or on stopping."""

    seqs: list[int]
    at: datetime


# The leader's marks ("published at") do not wait for their WAL flush: one lost in a crash of the database
# server only means that event is published again, which every consumer already takes (at-least-once,
# idempotent). Waiting for the flush held the relay back from its next batch by a disk write per batch.
_MARKS_WAIT_FOR_NOTHING = "SET synchronous_commit TO off"


class PublishFailed(RuntimeError):
    pass


def to_cloudevent(row: TaskEvent | Row[Any]) -> CloudEvent:
    return CloudEvent(
        id=str(row.id),
        source=row.source,
        type=row.type,
        subject=str(row.subject),
        time=row.created_at.isoformat(),
        topic=row.topic,
        data=row.data,
    )


class Leadership:
    """Decides whether this relay may publish now."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._conn: AsyncConnection | None = None

    async def acquire(self) -> bool:
        if self.engine.dialect.name != "postgresql":
            return True
        if self.held:
            return True
        conn = await self.engine.connect()
        try:
            # Autocommit: the relay reads and marks the outbox on this connection, one round trip each.
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            got = await conn.scalar(select(func.pg_try_advisory_lock(ADVISORY_LOCK_KEY)))
            if got:
                await conn.exec_driver_sql(_MARKS_WAIT_FOR_NOTHING)
            await conn.commit()
        except Exception:
            await conn.close()
            raise
        if not got:
            await conn.close()
            return False
        self._conn = conn
        return True

    @property
    def held(self) -> bool:
        return self._conn is not None and not self._conn.closed

    @property
    def connection(self) -> AsyncConnection | None:
        """The connection holding the lock (PostgreSQL, while leading)."""
        return self._conn if self.held else None

    async def release(self) -> None:
        """Give up leadership. Closing would only return the connection to the pool with the lock still
        held, so unlock explicitly, and drop the connection if even that fails."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            await conn.exec_driver_sql("RESET synchronous_commit")  # the pool's next user waits as usual
            await conn.scalar(select(func.pg_advisory_unlock(ADVISORY_LOCK_KEY)))
            await conn.commit()
            await conn.close()
        except Exception:
            with contextlib.suppress(Exception):
                await conn.invalidate()
                await conn.close()


class Relay:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        publisher: Publisher,
        clock: Clock,
        batch_size: int = 500,
        poll_seconds: float = 1.0,
        max_backoff_seconds: float = 30.0,
    ) -> None:
        self.sessions = sessions
        self.publisher = publisher
        self.clock = clock
        self.batch_size = batch_size
        self.engine = engine
        self.leadership = Leadership(engine)
        self._standby_retry_seconds = poll_seconds
        self._last_refused: float | None = None  # monotonic time leadership was last refused
        self._marks: _Marks | None = None
        self._loop = TimedLoop(
            "relay",
            tick=self._step,
            next_due=self._marks_due,
            clock=clock,
            max_sleep_seconds=poll_seconds,  # the safety net; commits wake the relay at once
            max_backoff_seconds=max_backoff_seconds,
            on_error=self._failed,
        )

    def wake(self) -> None:
        self._loop.wake()

    async def run(self) -> None:
        try:
            await self._loop.run()
        finally:
            with contextlib.suppress(Exception):  # unmarked events are only published again
                await self._mark_published()
            await self.leadership.release()

    async def stop(self) -> None:
        """Ask the loop to end after its current batch; leadership is released when it does."""
        self._loop.stop()

    async def _step(self) -> bool:
        # Only a full batch means more may be waiting; anything committed since the read woke us again.
        return await self.drain() >= self.batch_size

    async def _marks_due(self) -> datetime | None:
        """When to read again though no commit woke the relay: soon, if a batch waits for its mark. Under
        load the next commit comes first and its read marks the batch, saving the mark its round trip."""
        if self._marks is None:
            return None
        return self._marks.at + timedelta(seconds=MARK_WITHIN_SECONDS)

    async def _failed(self, _exc: Exception) -> None:
        PUBLISH_FAILURES.inc()
        await self.leadership.release()  # another replica may have better luck meanwhile

    async def drain(self) -> int:
        """Publish one batch; return how many were published. Raises PublishFailed on a partial batch.
        A batch is marked published by the next call's read (one round trip for both): call until 0."""
        if not await self._lead():
            return 0
        rows = await self._unpublished()
        if not rows:
            return 0
        read_at = time.time()
        events = [to_cloudevent(r) for r in rows]
        try:
            accepted = await self.publisher.publish(events)
        except Exception as exc:
            accepted, error = 0, f"{type(exc).__name__}: {exc}"
        else:
            error = "" if accepted == len(rows) else "publisher accepted only part of the batch"
        _observe_hops(rows[:accepted], read_at, acknowledged_at=time.time())
        if accepted:
            self._marks = _Marks([r.seq for r in rows[:accepted]], self.clock.now())
        for event in events[:accepted]:
            EVENTS_PUBLISHED.labels(topic=event.topic).inc()
        if error:
            await self._mark_published()
            await self._mark_failed(rows[accepted], error)
            raise PublishFailed(error)
        return accepted

    async def _lead(self) -> bool:
        """Whether this relay leads. A standby asks for the lock at most once per poll interval: every
        commit in every process wakes it, and asking each time costs the database a connection."""
        now = time.monotonic()
        recently_refused = (
            self._last_refused is not None and now - self._last_refused < self._standby_retry_seconds
        )
        if recently_refused and not self.leadership.held:
            return False
        leads = await self.leadership.acquire()
        self._last_refused = None if leads else now
        return leads

    @contextlib.asynccontextmanager
    async def _outbox(self) -> AsyncIterator[AsyncConnection]:
        """Where the relay reads and marks the outbox: on PostgreSQL the leader's own connection (no pool
        checkout, no ping, no BEGIN: one round trip per statement), on SQLite a pooled one."""
        held = self.leadership.connection
        if held is not None:
            yield held
            return
        async with self.engine.connect() as conn:
            yield conn
            await conn.commit()

    async def _unpublished(self) -> Sequence[Row[Any]]:
        """The next batch, marking the last one published on the way (on PostgreSQL in the same statement)."""
        if self._marks is not None and self.engine.dialect.name != "postgresql":
            await self._mark_published()
        async with self._outbox() as conn:
            if self._marks is None:
                rows = (await conn.execute(_UNPUBLISHED, {"batch": self.batch_size})).all()
            else:
                marks = {"seqs": self._marks.seqs, "at": self._marks.at, "batch": self.batch_size}
                rows = (await conn.execute(_UNPUBLISHED_MARKING_PUBLISHED, marks)).all()
        self._marks = None
        return rows

    async def _mark_published(self) -> None:
        if self._marks is not None:
            async with self._outbox() as conn:
                await conn.execute(_PUBLISHED, {"seqs": self._marks.seqs, "at": self._marks.at})
            self._marks = None

    async def _mark_failed(self, failed: Row[Any], error: str) -> None:
        async with self._outbox() as conn:
            await conn.execute(
                update(TaskEvent)
                .where(TaskEvent.seq == failed.seq)
                .values(publish_attempts=TaskEvent.publish_attempts + 1, last_error=error[:2000])
            )


def _observe_hops(published: Sequence[Row[Any]], read_at: float, *, acknowledged_at: float) -> None:
    """Per event: how long it waited in the outbox (by the wall clock, like its `created_at`) and how long
    its publication took."""
    waited, publishing = EVENT_HOP_SECONDS.labels(hop="outbox"), EVENT_HOP_SECONDS.labels(hop="publish")
    for row in published:
        waited.observe(max(read_at - row.created_at.timestamp(), 0.0))
        publishing.observe(acknowledged_at - read_at)


async def refresh_backlog_gauges(sessions: async_sessionmaker[AsyncSession], now: datetime) -> None:
    async with sessions() as session:
        count, oldest = (
            await session.execute(
                select(func.count(), func.min(TaskEvent.created_at)).where(TaskEvent.published_at.is_(None))
            )
        ).one()
    OUTBOX_BACKLOG.set(count)
    OUTBOX_OLDEST_AGE.set((now - oldest).total_seconds() if oldest is not None else 0.0)
