"""Waking sleepers when a transaction commits: by callback in this process, by NOTIFY in the others.

A writer calls `after_commit(session, channel, payload)`; nothing happens unless the transaction commits.
Sleepers (the outbox relay, the clocks, live notification streams) subscribe to a channel on the
`Wakeups` object of their process; on PostgreSQL a `Listener` hears the other processes' commits too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable

from sqlalchemy import bindparam, event, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.types import String

from todo.unit_of_work import UnitOfWork, unit_of

log = logging.getLogger(__name__)

OUTBOX = "todo_outbox"  # events were written: the relay has work
REMINDERS = "todo_reminders"  # the reminder schedule changed
SERIES = "todo_series"  # a recurring series' next occurrence changed
INBOX = "todo_inbox"  # a user has a new notification (payload: the user id)
DELIVERIES = "todo_deliveries"  # notifications are waiting to go out to channels
SIGN_INS = "todo_sign_ins"  # a user's row or sign-ins changed (payload: the user id)
WEBHOOKS = "todo_webhooks"  # events are waiting to be posted to webhooks
CHANNELS = (OUTBOX, REMINDERS, SERIES, INBOX, DELIVERIES, SIGN_INS, WEBHOOKS)
# Channels PostgreSQL notifies by itself, from a trigger (migrations 0004 and 0012): the INSERT that writes
# an outbox event or queues a webhook delivery announces it, and the writer needs no statement for it.
NOTIFIED_BY_DATABASE = frozenset({OUTBOX, WEBHOOKS})

Callback = Callable[[str], None]
_NOTIFY_ALL = text("SELECT pg_notify(:channel, p) FROM unnest(:payloads) AS p").bindparams(
    bindparam("payloads", type_=ARRAY(String()))
)


class Wakeups:
    """Callbacks per channel, called with the payload after a commit (here or, via Listener, elsewhere)."""

    def __init__(self) -> None:
        self._callbacks: dict[str, list[Callback]] = defaultdict(list)

    def subscribe(self, channel: str, callback: Callback) -> Callable[[], None]:
        """Returns the function that unsubscribes."""
        self._callbacks[channel].append(callback)
        return lambda: self._callbacks[channel].remove(callback)

    def fire(self, channel: str, payload: str = "") -> None:
        for callback in list(self._callbacks.get(channel, ())):
            callback(payload)


def after_commit(session: Session | AsyncSession, channel: str, payload: str = "") -> None:
    """Wake `channel`'s sleepers (with `payload`) once the session's transaction commits."""
    unit_of(session).pending_wakeups[channel].add(payload)


@event.listens_for(UnitOfWork, "before_commit")
def _notify_other_processes(session: UnitOfWork) -> None:
    if not session.pending_wakeups or session.get_bind().dialect.name != "postgresql":
        return
    for channel, payloads in session.pending_wakeups.items():
        if channel in NOTIFIED_BY_DATABASE:
            continue
        # One statement per channel however many payloads; PostgreSQL sends them when the commit lands.
        session.execute(_NOTIFY_ALL, {"channel": channel, "payloads": sorted(payloads)})


@event.listens_for(UnitOfWork, "after_commit")
def _wake_this_process(session: UnitOfWork) -> None:
    pending, session.pending_wakeups = session.pending_wakeups, defaultdict(set)
    if session.wakeups is None:
        return
    for channel, payloads in pending.items():
        for payload in payloads:
            session.wakeups.fire(channel, payload)


@event.listens_for(UnitOfWork, "after_rollback")
def _forget(session: UnitOfWork) -> None:
    session.pending_wakeups.clear()


class Listener:
    """Holds one PostgreSQL connection that LISTENs to every channel and hands NOTIFYs to `Wakeups`.

    If the connection drops, it reconnects and then wakes every channel once, for the NOTIFYs it may have
    missed; meanwhile the sleepers still wake on their safety timeouts. On SQLite there is one process,
    so there is nothing to hear.
    """

    def __init__(self, engine: AsyncEngine, wakeups: Wakeups, *, retry_seconds: float = 2.0) -> None:
        self.engine = engine
        self.wakeups = wakeups
        self.retry_seconds = retry_seconds
        self._stop = asyncio.Event()

    async def run(self) -> None:
        if self.engine.dialect.name != "postgresql":
            return
        while not self._stop.is_set():
            try:
                await self._listen_until_stopped_or_lost()
            except Exception as exc:
                log.warning("listener could not connect; retrying", extra={"error": str(exc)})
            if not self._stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=self.retry_seconds)

    async def _listen_until_stopped_or_lost(self) -> None:
        lost = asyncio.Event()
        async with self.engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            raw.add_termination_listener(lambda _: lost.set())  # type: ignore[union-attr]
            for channel in CHANNELS:
                await raw.add_listener(channel, self._on_notify)  # type: ignore[union-attr]
            for channel in CHANNELS:
                self.wakeups.fire(channel)  # anything committed while we were not listening
            waiters = [asyncio.create_task(self._stop.wait()), asyncio.create_task(lost.wait())]
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
            if lost.is_set():
                log.warning("listener lost its connection; reconnecting")
            await conn.invalidate()  # the listeners die with the connection, not in the pool

    def _on_notify(self, _conn: object, _pid: int, channel: str, payload: str) -> None:
        self.wakeups.fire(channel, payload)

    def stop(self) -> None:
        self._stop.set()
