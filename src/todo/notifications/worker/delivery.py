"""The delivery worker: sends queued notifications to their channels, retrying with backoff.

A delivery is leased (not locked) while it is being sent, so no transaction stays open across a slow
channel; replicas claim with `FOR UPDATE SKIP LOCKED`. Every attempt is recorded. Channels are sent to
concurrently and independently: one that hangs or refuses delays nobody else, and the in-app copy
exists before any channel is tried. A process that dies mid-send leaves the lease to expire, and the
delivery is tried again: channels get at-least-once delivery, as external systems always do.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from todo import wakeups
from todo.clock import Clock
from todo.notifications.models import Channel, Delivery, DeliveryAttempt, DeliveryState, Notification
from todo.notifications.sending import ChannelError, ChannelSender
from todo.platform.metrics import NOTIFICATIONS_FAILED, NOTIFICATIONS_SENT

CHANNEL_FAILING = "channel_failing"  # the inbox kind of a notice that a channel gave up


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    first_delay: timedelta = timedelta(seconds=5)
    max_delay: timedelta = timedelta(hours=1)

    def delay(self, attempts: int) -> timedelta:
        """5 s, 10 s, 20 s ... doubling after each failed attempt, at most `max_delay`."""
        delay: timedelta = self.first_delay * 2 ** (attempts - 1)
        return min(delay, self.max_delay)


@dataclass(frozen=True)
class _Job:
    delivery_id: uuid.UUID
    url: str
    title: str
    body: str


@dataclass(frozen=True)
class _Outcome:
    job: _Job
    error: str | None
    duration_ms: int


class DeliveryWorker:
    name = "deliveries"

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        sender: ChannelSender,
        *,
        batch_size: int = 50,
        lease: timedelta = timedelta(minutes=2),
        retry: RetryPolicy | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.sender = sender
        self.batch_size = batch_size
        self.lease = lease
        self.retry = retry or RetryPolicy()

    async def tick(self) -> bool:
        jobs = await self._claim()
        if not jobs:
            return False
        outcomes = await asyncio.gather(*(self._attempt(job) for job in jobs))
        await self._record(outcomes)
        return len(jobs) == self.batch_size

    async def _claim(self) -> list[_Job]:
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(Delivery, Channel.url, Notification.title, Notification.body)
                    .join(Channel, Channel.id == Delivery.channel_id)
                    .join(Notification, Notification.id == Delivery.notification_id)
                    .where(_ready(now))
                    .order_by(Delivery.next_attempt_at)
                    .limit(self.batch_size)
                    .with_for_update(of=Delivery, skip_locked=True)
                )
            ).all()
            for delivery, *_ in rows:
                delivery.lease_until = now + self.lease
        return [_Job(d.id, url, title, body) for d, url, title, body in rows]

    async def _attempt(self, job: _Job) -> _Outcome:
        started = time.perf_counter()
        try:
            await asyncio.wait_for(
                self.sender.send(job.url, title=job.title, body=job.body),
                timeout=self.lease.total_seconds() / 2,
            )
            error = None
        except ChannelError as exc:
            error = str(exc)
        except TimeoutError:
            error = "the channel did not answer in time"
        return _Outcome(job, error, round((time.perf_counter() - started) * 1000))

    async def _record(self, outcomes: list[_Outcome]) -> None:
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            deliveries = await session.scalars(
                select(Delivery).where(Delivery.id.in_({o.job.delivery_id for o in outcomes}))
            )
            by_id = {d.id: d for d in deliveries}
            for outcome in outcomes:
                delivery = by_id.get(outcome.job.delivery_id)
                if delivery is not None:  # None: the channel was removed meanwhile
                    self._apply(session, delivery, outcome, now)
                    if delivery.state == DeliveryState.failed:
                        await _tell_the_owner(session, self.sender, delivery, now)

    def _apply(self, session: AsyncSession, delivery: Delivery, outcome: _Outcome, now: datetime) -> None:
        delivery.attempts += 1
        delivery.lease_until = None
        session.add(
            DeliveryAttempt(
                delivery_id=delivery.id,
                attempted_at=now,
                ok=outcome.error is None,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
            )
        )
        service = _service(self.sender, outcome.job.url)
        if outcome.error is None:
            delivery.state, delivery.sent_at, delivery.last_error = DeliveryState.sent, now, None
            NOTIFICATIONS_SENT.labels(channel=service).inc()
            return
        NOTIFICATIONS_FAILED.labels(channel=service).inc()
        delivery.last_error = outcome.error
        if delivery.attempts >= self.retry.max_attempts:
            delivery.state = DeliveryState.failed
        else:
            delivery.next_attempt_at = now + self.retry.delay(delivery.attempts)

    async def next_due(self) -> datetime | None:
        """The next retry, or the end of a lease that a dead process left behind."""
        async with self.sessions() as session:
            pending = Delivery.state == DeliveryState.pending
            return await session.scalar(
                select(func.min(func.coalesce(Delivery.lease_until, Delivery.next_attempt_at))).where(pending)
            )


async def _tell_the_owner(
    session: AsyncSession, sender: ChannelSender, delivery: Delivery, now: datetime
) -> None:
    """A delivery was given up: its channel's owner hears of it in the inbox (not by channel, which may be
    the broken one), at most once a day per channel."""
    channel = await session.get(Channel, delivery.channel_id)
    if channel is None:
        return
    event_id = f"channel-failing:{channel.id}:{now.date().isoformat()}"
    if await session.scalar(select(Notification.id).where(Notification.event_id == event_id)) is not None:
        return
    name = channel.label or _service(sender, channel.url)
    notice = Notification(
        id=uuid.uuid4(),
        user_id=channel.user_id,
        task_id=None,
        kind=CHANNEL_FAILING,
        title=f"“{name}” is not delivering"[:300],
        body=f"It failed {delivery.attempts} times in a row; the last answer: {delivery.last_error}. "
        "Check it in Settings.",
        event_id=event_id,
        created_at=now,
    )
    try:
        async with session.begin_nested():  # another worker may tell them at the same moment
            session.add(notice)
    except IntegrityError:
        return
    wakeups.after_commit(session, wakeups.INBOX, str(channel.user_id))


def _ready(now: datetime) -> ColumnElement[bool]:
    return and_(
        Delivery.state == DeliveryState.pending,
        Delivery.next_attempt_at <= now,
        or_(Delivery.lease_until.is_(None), Delivery.lease_until < now),
    )


def _service(sender: ChannelSender, url: str) -> str:
    info = sender.describe(url)
    return info.service if info is not None else "unknown"
