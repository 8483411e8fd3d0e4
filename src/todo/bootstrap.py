"""The one place where adapters are chosen from settings and wired together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import todo.models  # noqa: F401  (every table known before the first flush)
from todo.analytics.consumer import analytics_consumer
from todo.auth.cache import SignInCache
from todo.auth.ratelimit import LoginGuard
from todo.clock import Clock, SystemClock
from todo.config import Role, Settings, Transport
from todo.db import OneStatementSession, create_engine
from todo.events.consumers import ConsumerRegistry
from todo.events.dapr import DaprPublisher
from todo.events.local import LocalTransport
from todo.events.relay import Relay
from todo.events.transport import Publisher
from todo.notifications.api.live import LiveFeed
from todo.notifications.channels import AppriseSender
from todo.notifications.egress import EgressPolicy
from todo.notifications.sending import ChannelSender
from todo.notifications.worker.delivery import DeliveryWorker
from todo.notifications.worker.inbox import inbox_consumer
from todo.notifications.worker.reminder_clock import ReminderClock
from todo.notifications.worker.reminders import reminder_schedule_consumer
from todo.recurrence.clock import OccurrenceClock
from todo.recurrence.consumer import completion_consumer
from todo.scheduling import TimedLoop
from todo.state.dapr import DaprStateStore
from todo.state.store import MemoryStateStore, StateStore
from todo.unit_of_work import UnitOfWork
from todo.wakeups import (
    DELIVERIES,
    OUTBOX,
    REMINDERS,
    SERIES,
    SIGN_INS,
    WEBHOOKS,
    Listener,
    Wakeups,
)
from todo.webhooks.consumer import webhooks_consumer
from todo.webhooks.worker import WebhookWorker

log = logging.getLogger(__name__)


# Every consumer of the notifications service (and of the all-in-one); deploy/dapr/subscriptions.yaml
# declares their topics for the sidecar.
EVENT_CONSUMERS = (
    analytics_consumer,
    inbox_consumer,
    reminder_schedule_consumer,
    completion_consumer,
    webhooks_consumer,
)


@dataclass
class Container:
    settings: Settings
    role: Role
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    read_sessions: async_sessionmaker[AsyncSession]  # autocommit: for requests that only read
    one_statement_sessions: async_sessionmaker[AsyncSession]  # for writes that are one statement
    clock: Clock
    state: StateStore
    login_guard: LoginGuard
    consumers: ConsumerRegistry
    publisher: Publisher
    relay: Relay
    sign_ins: SignInCache
    wakeups: Wakeups
    listener: Listener
    live_feed: LiveFeed
    channel_sender: ChannelSender
    occurrences: OccurrenceClock
    reminders: ReminderClock
    deliveries: DeliveryWorker
    webhooks: WebhookWorker
    clocks: list[TimedLoop] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self, *, clocks: bool = True) -> None:
        """The relay and listener run everywhere; the clocks where the role says so (and `clocks` allows:
        tests that drive the clocks step by step turn them off)."""
        self._tasks.append(asyncio.create_task(self.listener.run(), name="listener"))
        self._tasks.append(asyncio.create_task(self.relay.run(), name="outbox-relay"))
        if clocks and self.role in (Role.all_in_one, Role.notifications):
            for loop in self.clocks:
                self._tasks.append(asyncio.create_task(loop.run(), name=f"clock-{loop.name}"))

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Let in-flight work finish (the relay ends its batch, clocks their step), then close pools."""
        await self.relay.stop()
        for loop in self.clocks:
            loop.stop()
        self.listener.stop()
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
        await self.state.close()
        await self.engine.dispose()


def build_container(
    settings: Settings,
    *,
    role: Role = Role.all_in_one,
    clock: Clock | None = None,
    publisher: Publisher | None = None,
    channel_sender: ChannelSender | None = None,
) -> Container:
    clock = clock or SystemClock()
    engine = create_engine(settings)
    wakeups = Wakeups()
    unit: dict[str, Any] = {"source": settings.app_id, "wakeups": wakeups}  # every unit of work's
    sessions = async_sessionmaker(engine, expire_on_commit=False, sync_session_class=UnitOfWork, **unit)
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    # No transaction around a read-only request: no BEGIN and no ROLLBACK round trip (decision 62)
    read_sessions = async_sessionmaker(autocommit)
    # Where a write is one statement (a task's creation on PostgreSQL), no transaction around it (decision 66)
    one_statement_sessions = (
        async_sessionmaker(autocommit, expire_on_commit=False, sync_session_class=OneStatementSession,
                           **unit)
        if engine.dialect.name == "postgresql"
        else sessions
    )  # fmt: skip
    consumers = ConsumerRegistry(EVENT_CONSUMERS)
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
    wakeups.subscribe(OUTBOX, lambda _: relay.wake())
    sign_ins = SignInCache(ttl_seconds=settings.user_cache_seconds)
    wakeups.subscribe(SIGN_INS, sign_ins.forget)
    state = _state_store(settings)
    guard = LoginGuard(
        state,
        per_account=settings.login_max_failures_per_account,
        per_client=settings.login_max_attempts_per_client,
        window_seconds=settings.login_window_seconds,
    )
    egress = EgressPolicy.allowing(settings.channel_allowed_networks)
    sender = channel_sender or AppriseSender(egress)
    occurrences = OccurrenceClock(sessions, clock)
    reminders = ReminderClock(
        sessions, clock, late_after=timedelta(seconds=settings.reminder_late_after_seconds)
    )
    deliveries = DeliveryWorker(sessions, clock, sender)
    webhooks = WebhookWorker(sessions, clock, egress)
    clocks = [
        _loop(occurrences, SERIES, wakeups, clock, settings),
        _loop(reminders, REMINDERS, wakeups, clock, settings),
        _loop(deliveries, DELIVERIES, wakeups, clock, settings),
        _loop(webhooks, WEBHOOKS, wakeups, clock, settings),
    ]
    return Container(
        settings=settings,
        role=role,
        engine=engine,
        sessions=sessions,
        read_sessions=read_sessions,
        one_statement_sessions=one_statement_sessions,
        clock=clock,
        state=state,
        login_guard=guard,
        consumers=consumers,
        publisher=publisher,
        relay=relay,
        sign_ins=sign_ins,
        wakeups=wakeups,
        listener=Listener(engine, wakeups),
        live_feed=LiveFeed(wakeups),
        channel_sender=sender,
        occurrences=occurrences,
        reminders=reminders,
        deliveries=deliveries,
        webhooks=webhooks,
        clocks=clocks,
    )


def _loop(
    worker: OccurrenceClock | ReminderClock | DeliveryWorker | WebhookWorker,
    channel: str,
    wakeups: Wakeups,
    clock: Clock,
    settings: Settings,
) -> TimedLoop:
    loop = TimedLoop(
        worker.name,
        tick=worker.tick,
        next_due=worker.next_due,
        clock=clock,
        max_sleep_seconds=settings.clock_max_sleep_seconds,
    )
    wakeups.subscribe(channel, loop.wake)
    return loop


def _publisher(
    settings: Settings, consumers: ConsumerRegistry, sessions: async_sessionmaker[AsyncSession]
) -> Publisher:
    if settings.transport is Transport.dapr:
        return DaprPublisher(
            http_port=settings.dapr_http_port, pubsub=settings.dapr_pubsub, headers=settings.dapr_headers
        )
    return LocalTransport(consumers, sessions)


def _state_store(settings: Settings) -> StateStore:
    if settings.transport is Transport.dapr:
        return DaprStateStore(
            http_port=settings.dapr_http_port, store=settings.dapr_statestore, headers=settings.dapr_headers
        )
    return MemoryStateStore()
