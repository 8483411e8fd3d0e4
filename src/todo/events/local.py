"""The in-process transport: the relay's publish calls every registered consumer directly."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from todo.events.consumers import ConsumerRegistry, deliver_batch
from todo.events.envelope import CloudEvent
from todo.events.transport import DeliveryStatus

log = logging.getLogger(__name__)


class LocalTransport:
    """Delivers a batch to each consumer in order (one transaction per consumer and batch).

    A consumer answering RETRY stops the batch there; the relay republishes from that event later and the
    consumers that already succeeded ignore the duplicates. DROP is logged as dead-lettered.
    """

    def __init__(self, registry: ConsumerRegistry, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.registry = registry
        self.sessions = sessions

    async def publish(self, events: Sequence[CloudEvent]) -> int:
        """Each consumer gets its events of the batch in order; accepted = up to the first RETRY."""
        accepted = len(events)
        for consumer in self.registry.all():
            mine = [(i, e) for i, e in enumerate(events[:accepted]) if e.topic in consumer.topics]
            if not mine:
                continue
            statuses = await deliver_batch(consumer, [e for _, e in mine], self.sessions)
            for (index, event), status in zip(mine, statuses, strict=False):
                if status is DeliveryStatus.RETRY:
                    accepted = min(accepted, index)
                    break
                if status is DeliveryStatus.DROP:
                    log.error("event dead-lettered", extra={"consumer": consumer.name, "event_id": event.id})
        return accepted

    async def close(self) -> None:
        return None
