"""The consumer framework: idempotent, transactional handling with the SUCCESS / RETRY / DROP contract."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from todo.events.envelope import CloudEvent, MalformedEvent
from todo.events.models import ProcessedEvent
from todo.events.transport import DeliveryStatus
from todo.platform.metrics import CONSUMED

log = logging.getLogger(__name__)

Handler = Callable[[CloudEvent, AsyncSession], Awaitable[None]]


@dataclass(frozen=True)
class Consumer:
    """A named handler for some topics; its effects and its idempotency record commit together."""

    name: str
    topics: tuple[str, ...]
    handle: Handler


class ConsumerRegistry:
    def __init__(self, consumers: Iterable[Consumer] = ()) -> None:
        self._by_topic: dict[str, list[Consumer]] = defaultdict(list)
        for consumer in consumers:
            self.register(consumer)

    def register(self, consumer: Consumer) -> None:
        for topic in consumer.topics:
            self._by_topic[topic].append(consumer)

    def for_topic(self, topic: str) -> list[Consumer]:
        return list(self._by_topic.get(topic, ()))

    def all(self) -> list[Consumer]:
        seen: dict[str, Consumer] = {}
        for consumers in self._by_topic.values():
            for consumer in consumers:
                seen.setdefault(consumer.name, consumer)
        return list(seen.values())


async def deliver(
    consumer: Consumer, event: CloudEvent, sessions: async_sessionmaker[AsyncSession]
) -> DeliveryStatus:
    status = await _deliver(consumer, event, sessions)
    CONSUMED.labels(consumer=consumer.name, topic=event.topic, status=status.value).inc()
    return status


async def _deliver(
    consumer: Consumer, event: CloudEvent, sessions: async_sessionmaker[AsyncSession]
) -> DeliveryStatus:
    try:
        async with sessions() as session, session.begin():
            if await session.get(ProcessedEvent, (consumer.name, event.id)) is not None:
                return DeliveryStatus.SUCCESS
            session.add(ProcessedEvent(consumer=consumer.name, event_id=event.id))
            await session.flush()  # a concurrent duplicate collides here, before any effect
            await consumer.handle(event, session)
        return DeliveryStatus.SUCCESS
    except MalformedEvent as exc:
        log.error(
            "dropping malformed event",
            extra={"consumer": consumer.name, "event_id": event.id, "why": str(exc)},
        )
        return DeliveryStatus.DROP
    except IntegrityError:
        if await _already_processed(consumer, event, sessions):
            return DeliveryStatus.SUCCESS
        log.exception("consumer failed; will retry", extra={"consumer": consumer.name, "event_id": event.id})
        return DeliveryStatus.RETRY
    except Exception:
        log.exception("consumer failed; will retry", extra={"consumer": consumer.name, "event_id": event.id})
        return DeliveryStatus.RETRY


async def _already_processed(
    consumer: Consumer, event: CloudEvent, sessions: async_sessionmaker[AsyncSession]
) -> bool:
    async with sessions() as session:
        return await session.get(ProcessedEvent, (consumer.name, event.id)) is not None
