"""The consumer framework: idempotent, transactional handling with the SUCCESS / RETRY / DROP contract."""

from __future__ import annotations

import functools
import logging
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Executable, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from todo.db import dialect_of, insert_or_merge, utcnow
from todo.events.envelope import CloudEvent, MalformedEvent
from todo.events.models import ProcessedEvent
from todo.events.transport import DeliveryStatus
from todo.platform.metrics import CONSUMED, EVENT_DELIVERY_SECONDS

log = logging.getLogger(__name__)

BATCH_CACHE = "consumer_batch_cache"  # session.info key where prepare() may leave what it loaded
Handler = Callable[[CloudEvent, AsyncSession], Awaitable[None]]
BatchHandler = Callable[[Sequence[CloudEvent], AsyncSession], Awaitable[None]]


@dataclass(frozen=True)
class Consumer:
    """A named handler for some topics; its effects and its idempotency record commit together.

    `handle` must keep its effects inside the session it is given: it may run more than once before
    its transaction commits (a batch that fails is redone event by event), and only what commits counts.
    Effects outside the database go through their own recorded attempts, never straight from a handler.
    `prepare`, when given, loads (and locks) what a whole batch needs in one query, so that `handle`
    finds it in the session instead of asking the database once per event. `handle_batch`, when given,
    replaces prepare-and-handle for a whole batch (a set-based statement instead of one per event); it
    must leave what `handle` on each event in order would. Event by event, `handle` is used.
    """

    name: str
    topics: tuple[str, ...]
    handle: Handler
    prepare: BatchHandler | None = None
    handle_batch: BatchHandler | None = None


class ConsumerRegistry:
    def __init__(self, consumers: Iterable[Consumer] = ()) -> None:
        self._consumers: dict[str, Consumer] = {}
        self._by_topic: dict[str, list[Consumer]] = defaultdict(list)
        for consumer in consumers:
            self.register(consumer)

    def register(self, consumer: Consumer) -> None:
        if consumer.name in self._consumers:
            raise ValueError(f"consumer {consumer.name!r} is registered twice")
        self._consumers[consumer.name] = consumer
        for topic in consumer.topics:
            self._by_topic[topic].append(consumer)

    def for_topic(self, topic: str) -> list[Consumer]:
        return list(self._by_topic.get(topic, ()))

    def all(self) -> list[Consumer]:
        return list(self._consumers.values())


async def deliver(
    consumer: Consumer, event: CloudEvent, sessions: async_sessionmaker[AsyncSession]
) -> DeliveryStatus:
    return (await deliver_batch(consumer, [event], sessions))[0]


async def deliver_batch(
    consumer: Consumer, events: Sequence[CloudEvent], sessions: async_sessionmaker[AsyncSession]
) -> list[DeliveryStatus]:
    """Handle `events` in order in one transaction.

    The whole batch is tried at once; if anything fails, that transaction is rolled back and the batch is
    redone in a new one, one savepoint per event, so that a malformed event is dropped alone and a failing
    one stops the batch there (RETRY) while everything before it commits. The statuses cover the events
    up to and including the first RETRY.
    """
    try:
        async with sessions() as session, session.begin():
            await _all_at_once(consumer, events, session)
        statuses = [DeliveryStatus.SUCCESS] * len(events)
    except Exception:
        statuses = await _carefully(consumer, events, sessions)
    _count(consumer, events, statuses)
    return statuses


def _count(consumer: Consumer, events: Sequence[CloudEvent], statuses: Sequence[DeliveryStatus]) -> None:
    """The consumed counters and the delivery lag, per batch: a label lookup per event was a twentieth of
    the notifications service's time at 1,000 events/s."""
    handled_at = utcnow()
    tally: Counter[tuple[str, DeliveryStatus]] = Counter()
    lag = EVENT_DELIVERY_SECONDS.labels(consumer=consumer.name)
    for event, status in zip(events, statuses, strict=False):
        tally[event.topic, status] += 1
        if status is DeliveryStatus.SUCCESS and (written := _written_at(event)) is not None:
            lag.observe(max((handled_at - written).total_seconds(), 0.0))
    for (topic, status), n in tally.items():
        CONSUMED.labels(consumer=consumer.name, topic=topic, status=status.value).inc(n)


def _written_at(event: CloudEvent) -> datetime | None:
    """The event's time, if it is a valid one with an offset (a malformed time is the handler's business,
    not the latency's)."""
    try:
        written = datetime.fromisoformat(event.time)
    except ValueError:
        return None
    return written if written.tzinfo is not None else None


async def deliver_to_all(
    consumers: Sequence[Consumer], events: Sequence[CloudEvent], sessions: async_sessionmaker[AsyncSession]
) -> list[DeliveryStatus]:
    """Hand one delivery to every consumer of its topic; the worst status per event.

    All consumers share one transaction (one claim statement, one commit) when everything succeeds, the
    common case. If anything fails, that transaction is rolled back and each consumer is delivered to on
    its own (`deliver_batch`), so that one consumer's trouble holds back none of the others.
    """
    if not consumers or not events:
        return [DeliveryStatus.SUCCESS] * len(events)
    if len(consumers) == 1:  # its own batch is the shared transaction: trying it twice would gain nothing
        return await _to_each(consumers, events, sessions)
    try:
        async with sessions() as session, session.begin():
            claimed = await _claim(session, consumers, events)
            for consumer in consumers:
                await _apply(consumer, _fresh(events, claimed, consumer), session)
    except Exception:
        log.info("a shared consumer transaction failed; delivering to each consumer alone", exc_info=True)
        return await _to_each(consumers, events, sessions)
    statuses = [DeliveryStatus.SUCCESS] * len(events)
    for consumer in consumers:
        _count(consumer, events, statuses)
    return statuses


async def _to_each(
    consumers: Sequence[Consumer], events: Sequence[CloudEvent], sessions: async_sessionmaker[AsyncSession]
) -> list[DeliveryStatus]:
    statuses = [DeliveryStatus.SUCCESS] * len(events)
    for consumer in consumers:
        answered = await deliver_batch(consumer, events, sessions)
        answered += [DeliveryStatus.RETRY] * (len(events) - len(answered))  # the rest of a stopped batch
        statuses = [_worse(a, b) for a, b in zip(statuses, answered, strict=True)]
    return statuses


def _worse(a: DeliveryStatus, b: DeliveryStatus) -> DeliveryStatus:
    order = (DeliveryStatus.SUCCESS, DeliveryStatus.DROP, DeliveryStatus.RETRY)
    return max(a, b, key=order.index)


async def _all_at_once(consumer: Consumer, events: Sequence[CloudEvent], session: AsyncSession) -> None:
    claimed = await _claim(session, [consumer], events)
    await _apply(consumer, _fresh(events, claimed, consumer), session)


Claims = set[tuple[str, str]]  # (consumer, event id) pairs a transaction claimed


def _fresh(events: Sequence[CloudEvent], claimed: Claims, consumer: Consumer) -> list[CloudEvent]:
    """The events `consumer` claimed, each once (a delivery may carry an event twice)."""
    return list({e.id: e for e in events if (consumer.name, e.id) in claimed}.values())


async def _apply(consumer: Consumer, fresh: Sequence[CloudEvent], session: AsyncSession) -> None:
    if not fresh:
        return
    try:
        if consumer.handle_batch is not None:
            await consumer.handle_batch(fresh, session)
        else:
            if consumer.prepare is not None:
                await consumer.prepare(fresh, session)
            for event in fresh:
                await consumer.handle(event, session)
        await session.flush()
    finally:
        session.info.pop(BATCH_CACHE, None)


async def _claim(
    session: AsyncSession, consumers: Sequence[Consumer], events: Sequence[CloudEvent]
) -> Claims:
    """Claim the events not processed yet by each consumer (one INSERT .. ON CONFLICT DO NOTHING
    RETURNING for all); what comes back is theirs to handle. A redelivery that races the first delivery
    waits on its claim and then skips."""
    if not events:
        return set()
    now = utcnow()
    rows = [{"consumer": c.name, "event_id": e.id, "processed_at": now} for c in consumers for e in events]
    claimed = await session.execute(_claim_statement(dialect_of(session)), rows)  # executemany
    return {(consumer, event_id) for consumer, event_id in claimed}


@functools.cache
def _claim_statement(dialect: str) -> Executable:
    insert = insert_or_merge(dialect, ProcessedEvent)
    return insert.on_conflict_do_nothing().returning(ProcessedEvent.consumer, ProcessedEvent.event_id)


async def _carefully(
    consumer: Consumer, events: Sequence[CloudEvent], sessions: async_sessionmaker[AsyncSession]
) -> list[DeliveryStatus]:
    try:
        async with sessions() as session, session.begin():
            seen = await _already_processed(session, consumer, events)
            return await _one_by_one(consumer, events, session, seen)
    except Exception:
        log.exception("consumer batch failed to commit; will retry", extra={"consumer": consumer.name})
        return [DeliveryStatus.RETRY]


async def _already_processed(
    session: AsyncSession, consumer: Consumer, events: Sequence[CloudEvent]
) -> set[str]:
    rows = await session.scalars(
        select(ProcessedEvent.event_id).where(
            ProcessedEvent.consumer == consumer.name, ProcessedEvent.event_id.in_({e.id for e in events})
        )
    )
    return set(rows)


async def _one_by_one(
    consumer: Consumer, events: Sequence[CloudEvent], session: AsyncSession, seen: set[str]
) -> list[DeliveryStatus]:
    statuses: list[DeliveryStatus] = []
    for event in events:
        status = await _in_savepoint(consumer, event, session, seen)
        statuses.append(status)
        if status is DeliveryStatus.RETRY:
            break
    return statuses


async def _in_savepoint(
    consumer: Consumer, event: CloudEvent, session: AsyncSession, seen: set[str]
) -> DeliveryStatus:
    if event.id in seen:
        return DeliveryStatus.SUCCESS
    try:
        async with session.begin_nested():
            session.add(ProcessedEvent(consumer=consumer.name, event_id=event.id))
            await session.flush()  # a concurrent duplicate collides here, before any effect
            await consumer.handle(event, session)
    except MalformedEvent as exc:
        log.error(
            "dropping malformed event",
            extra={"consumer": consumer.name, "event_id": event.id, "why": str(exc)},
        )
        return DeliveryStatus.DROP
    except Exception:
        log.exception("consumer failed; will retry", extra={"consumer": consumer.name, "event_id": event.id})
        return DeliveryStatus.RETRY
    seen.add(event.id)
    return DeliveryStatus.SUCCESS
