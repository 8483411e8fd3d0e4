"""The in-process transport: the relay's publish calls every registered consumer directly."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from todo.events.consumers import ConsumerRegistry, deliver
from todo.events.envelope import CloudEvent
from todo.events.transport import DeliveryStatus

log = logging.getLogger(__name__)


class LocalTransport:
    """Delivers each event to its topic's consumers before accepting the next, so per-task order holds.

    A consumer answering RETRY stops the batch there; the relay republishes from that event later and the
    consumers that already succeeded ignore the duplicate. DROP is logged as dead-lettered.
    """

    def __init__(self, registry: ConsumerRegistry, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.registry = registry
        self.sessions = sessions
        self.dead_letters: list[CloudEvent] = []

    async def publish(self, events: Sequence[CloudEvent]) -> int:
        for accepted, event in enumerate(events):
            for consumer in self.registry.for_topic(event.topic):
                status = await deliver(consumer, event, self.sessions)
                if status is DeliveryStatus.RETRY:
                    return accepted
                if status is DeliveryStatus.DROP:
                    self.dead_letters.append(event)
                    log.error("event dead-lettered", extra={"consumer": consumer.name, "event_id": event.id})
        return len(events)

    async def close(self) -> None:
        return None
