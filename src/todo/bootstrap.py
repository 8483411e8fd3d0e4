"""The one place where adapters are chosen from settings and wired together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import todo.models  # noqa: F401  (every table known before the first flush)
from todo.analytics.consumer import analytics_consumer
from todo.auth.cache import UserCache
from todo.auth.ratelimit import LoginGuard
from todo.clock import Clock, SystemClock
from todo.config import ConfigError, Settings, Transport
from todo.db import create_engine
from todo.events.consumers import ConsumerRegistry
from todo.events.local import LocalTransport
from todo.events.outbox import SOURCE_KEY, WAKEUP_KEY, OutboxSession
from todo.events.relay import Relay
from todo.events.transport import Publisher
from todo.notifications.inbox import inbox_consumer

log = logging.getLogger(__name__)


@dataclass
class Container:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    login_guard: LoginGuard
    consumers: ConsumerRegistry
    publisher: Publisher
    relay: Relay
    user_cache: UserCache
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self.relay.run(), name="outbox-relay"))

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Let in-flight work finish (the relay ends its batch), then close pools."""
        await self.relay.stop()
        for task in self._tasks:
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout=grace_seconds)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._tasks.clear()
        await self.relay.leadership.release()  # in case the relay loop never ran
        await self.publisher.close()
        await self.engine.dispose()


def build_container(
    settings: Settings, *, clock: Clock | None = None, publisher: Publisher | None = None
) -> Container:
    clock = clock or SystemClock()
    engine = create_engine(settings)
    info: dict[str, object] = {SOURCE_KEY: settings.app_id}
    sessions = async_sessionmaker(engine, expire_on_commit=False, sync_session_class=OutboxSession, info=info)
    consumers = ConsumerRegistry([analytics_consumer, inbox_consumer])
    publisher = publisher or _publisher(settings, consumers, sessions)
    relay = Relay(
        engine=engine,
        sessions=sessions,
        publisher=publisher,
        clock=clock,
        batch_size=settings.relay_batch_size,
        poll_seconds=settings.relay_poll_seconds,
        max_backoff_seconds=settings.relay_max_backoff_seconds,
    )
    info[WAKEUP_KEY] = relay.wake
    guard = LoginGuard(
        per_account=settings.login_max_failures_per_account,
        per_client=settings.login_max_attempts_per_client,
        window_seconds=settings.login_window_seconds,
    )
    user_cache = UserCache(ttl_seconds=settings.user_cache_seconds)
    return Container(settings, engine, sessions, clock, guard, consumers, publisher, relay, user_cache)


def _publisher(
    settings: Settings, consumers: ConsumerRegistry, sessions: async_sessionmaker[AsyncSession]
) -> Publisher:
    if settings.transport is Transport.local:
        return LocalTransport(consumers, sessions)
    raise ConfigError(f"transport {settings.transport.value!r} is not available in this build yet")
