"""The consumer framework: idempotent, transactional handling with the SUCCESS / RETRY / DROP contract."""

from __future__ import annotations

import functools
import logging
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, Executable, Insert, String, Table, bindparam, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from todo.db import UTCDateTime, dialect_of, insert_or_merge, utcnow
from todo.events.envelope import CloudEvent, MalformedEvent
from todo.events.models import ProcessedEvent
from todo.events.transport import DeliveryStatus
from todo.platform.metrics import CONSUMED, EVENT_DELIVERY_SECONDS
from todo.unit_of_work import unit_of

log = logging.getLogger(__name__)

Handler = Callable[[CloudEvent, AsyncSession], Awaitable[None]]
BatchHandler = Callable[[Sequence[CloudEvent], AsyncSession], Awaitable[None]]


@dataclass(frozen=True)
class SetStatement:
    """A consumer's whole effect on a batch as one PostgreSQL data-modifying statement: `statement` (built
    once, its parameters named after the consumer) with this batch's `params`, computed only once every
    consumer of the delivery has said yes (a batch one of them declines is parsed by the handlers)."""

    statement: Insert
    params: Callable[[], dict[str, Any]]


OneStatement = Callable[[Sequence[CloudEvent]], SetStatement | None]


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

    `in_one_statement`, when given, may answer a batch's whole effect as a SetStatement (None: this batch
    needs the transaction, e.g. it reads what it changes). The statement must leave the same rows whether
    or not it has seen an event before (writing by the rows' own versions) and hand nothing back: when
    every consumer of a delivery has one, the claim and all effects run as one statement (decision 70).
    """

    name: str
    topics: tuple[str, ...]
    handle: Handler
    prepare: BatchHandler | None = None
    handle_batch: BatchHandler | None = None
    in_one_statement: OneStatement | None = None


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
    consumers: Sequence[Consumer],
    events: Sequence[CloudEvent],
    sessions: async_sessionmaker[AsyncSession],
    *,
    one_statement: async_sessionmaker[AsyncSession] | None = None,
) -> list[DeliveryStatus]:
    """Hand one delivery to every consumer of its topic; the worst status per event.

    With `one_statement` (PostgreSQL's autocommit sessions), a delivery whose consumers all answer it with
    a SetStatement is claimed and applied in one statement, its own transaction: one round trip where a
    transaction takes five (decision 70). Otherwise all consumers share one transaction (one claim
    statement, one commit) when everything succeeds, the common case. If anything fails, that
    transaction is rolled back and each consumer is delivered to on its own (`deliver_batch`), so that
    one consumer's trouble holds back none of the others.
    """
    if not consumers or not events:
        return [DeliveryStatus.SUCCESS] * len(events)
    if one_statement is not None and await _in_one_statement(consumers, events, one_statement):
        return _all_succeeded(consumers, events)
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
    return _all_succeeded(consumers, events)


def _all_succeeded(consumers: Sequence[Consumer], events: Sequence[CloudEvent]) -> list[DeliveryStatus]:
    statuses = [DeliveryStatus.SUCCESS] * len(events)
    for consumer in consumers:
        _count(consumer, events, statuses)
    return statuses


async def _in_one_statement(
    consumers: Sequence[Consumer], events: Sequence[CloudEvent], sessions: async_sessionmaker[AsyncSession]
) -> bool:
    """Claim and apply the delivery in one statement, if every consumer can; whether it was done. A
    failed statement changed nothing: the transactional path then takes the delivery."""
    effects = _set_statements(consumers, events)
    if effects is None:
        return False
    params: dict[str, Any] = {
        "claim_consumers": [c.name for c in consumers for _ in events],
        "claim_event_ids": [e.id for _ in consumers for e in events],
        "claim_at": utcnow(),
    }
    try:
        for effect in effects:
            params.update(effect.params())
    except MalformedEvent:
        return False  # the transactional path drops that event alone
    try:
        async with sessions() as session:
            await session.execute(_claimed_with(tuple(e.statement for e in effects)), params)
    except Exception:
        log.info("a delivery's one statement failed; delivering in a transaction", exc_info=True)
        return False
    return True


def _set_statements(consumers: Sequence[Consumer], events: Sequence[CloudEvent]) -> list[SetStatement] | None:
    effects = []
    for consumer in consumers:
        try:
            effect = consumer.in_one_statement(events) if consumer.in_one_statement else None
        except MalformedEvent:
            return None  # the transactional path drops that event alone
        if effect is None:
            return None
        effects.append(effect)
    return effects


@functools.cache
def _claimed_with(effects: tuple[Insert, ...]) -> Insert:
    """The claim of every (consumer, event) pair, with each consumer's effect as a data-modifying CTE,
    which PostgreSQL runs to completion whether or not the statement reads it."""
    arrays = [bindparam(f"claim_{c}s", type_=ARRAY(String())) for c in ("consumer", "event_id")]
    pairs = func.unnest(*arrays).table_valued("consumer", "event_id").render_derived()
    rows = select(pairs.c.consumer, pairs.c.event_id, bindparam("claim_at", type_=UTCDateTime()))
    table: Table = ProcessedEvent.__table__  # type: ignore[assignment]
    claim = postgresql.insert(table).from_select(["consumer", "event_id", "processed_at"], rows)
    return claim.on_conflict_do_nothing().add_cte(*(e.cte(f"effect_{n}") for n, e in enumerate(effects)))


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
        unit_of(session).batch = None  # what prepare() loaded is this batch's only


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
