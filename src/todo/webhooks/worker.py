"""The webhook worker: posts queued events to their subscriptions, signed, retried with backoff, in order
per task, pausing a subscription that keeps failing.

As the channel worker does: a delivery is leased (not locked) while it is posted, so no transaction
stays open across a slow receiver; replicas claim with `FOR UPDATE SKIP LOCKED`; a process that dies
mid-post leaves the lease to expire and the event is posted again (at-least-once, as webhooks always
are: receivers tell repeats apart by the CloudEvent `id`). A task's next event is not claimed while an
earlier one for the same subscription is pending, so a receiver gets each task's events in order.
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from todo import wakeups
from todo.clock import Clock
from todo.notifications.egress import EgressPolicy, RefusedTarget
from todo.notifications.models import Notification
from todo.notifications.worker.delivery import RetryPolicy
from todo.webhooks.models import Webhook, WebhookDelivery, WebhookDeliveryState
from todo.webhooks.signing import SIGNATURE_HEADER, signature

WEBHOOK_PAUSED = "webhook_paused"  # the inbox kind of the notice that a webhook was paused
PAUSE_AFTER = 5  # failed attempts in a row, over all of a subscription's deliveries
USER_AGENT = "todo-webhooks/1"


@dataclass(frozen=True)
class _Job:
    seq: int
    webhook_id: uuid.UUID
    url: str
    secret: str
    event_id: str
    event_type: str
    body: bytes


@dataclass(frozen=True)
class _Outcome:
    job: _Job
    status: int | None
    error: str | None
    duration_ms: int


class WebhookWorker:
    name = "webhooks"

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        policy: EgressPolicy,
        *,
        batch_size: int = 50,
        lease: timedelta = timedelta(minutes=2),
        timeout_seconds: float = 10.0,
        retry: RetryPolicy | None = None,
        pause_after: int = PAUSE_AFTER,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.policy = policy
        self.batch_size = batch_size
        self.lease = lease
        self.timeout_seconds = timeout_seconds
        self.retry = retry or RetryPolicy()
        self.pause_after = pause_after

    async def tick(self) -> bool:
        jobs = await self._claim()
        if not jobs:
            return False
        async with httpx.AsyncClient(timeout=self.timeout_seconds, follow_redirects=False) as http:
            outcomes = await asyncio.gather(*(self._attempt(http, job) for job in jobs))
        await self._record(outcomes)
        return len(jobs) == self.batch_size

    async def next_due(self) -> datetime | None:
        """The next delivery or retry of an active subscription, or the end of an abandoned lease."""
        async with self.sessions() as session:
            query = (
                select(func.min(func.coalesce(WebhookDelivery.lease_until, WebhookDelivery.next_attempt_at)))
                .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                .where(WebhookDelivery.state == WebhookDeliveryState.pending, Webhook.active)
            )
            return await session.scalar(query)

    async def _claim(self) -> list[_Job]:
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(WebhookDelivery, Webhook.url, Webhook.secret)
                    .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                    .where(Webhook.active, _ready(now), ~_an_earlier_one_waits())
                    .order_by(WebhookDelivery.seq)
                    .limit(self.batch_size)
                    .with_for_update(of=WebhookDelivery, skip_locked=True)
                )
            ).all()
            for delivery, _, _ in rows:
                delivery.lease_until = now + self.lease
        return [
            _Job(d.seq, d.webhook_id, url, secret, d.event_id, d.event_type, d.body.encode())
            for d, url, secret in rows
        ]

    async def _attempt(self, http: httpx.AsyncClient, job: _Job) -> _Outcome:
        started = time.perf_counter()
        status, error = None, None
        try:
            await self._check_target(job.url)
            response = await http.post(job.url, content=job.body, headers=_headers(job))
            status = response.status_code
            if not 200 <= status < 300:
                error = f"answered {status}"
        except RefusedTarget as exc:
            error = str(exc)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return _Outcome(job, status, error, round((time.perf_counter() - started) * 1000))

    async def _check_target(self, url: str) -> None:
        """Every address the host resolves to, checked as it is posted to (the name may have changed
        since it was saved)."""
        host = urlsplit(url).hostname or ""
        try:
            found = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except OSError:
            return  # the post fails with its own error
        self.policy.check_addresses(host, [str(sockaddr[0]) for *_, sockaddr in found])

    async def _record(self, outcomes: list[_Outcome]) -> None:
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            seqs = [o.job.seq for o in outcomes]
            rows = await session.execute(
                select(WebhookDelivery, Webhook)
                .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                .where(WebhookDelivery.seq.in_(seqs))
                .with_for_update(of=Webhook)
            )
            found = {delivery.seq: (delivery, webhook) for delivery, webhook in rows}
            for outcome in outcomes:
                if (pair := found.get(outcome.job.seq)) is not None:  # None: the webhook was deleted
                    await self._apply(session, *pair, outcome, now)

    async def _apply(
        self,
        session: AsyncSession,
        delivery: WebhookDelivery,
        webhook: Webhook,
        outcome: _Outcome,
        now: datetime,
    ) -> None:
        delivery.attempts += 1
        delivery.lease_until = None
        delivery.last_status = outcome.status
        if outcome.error is None:
            delivery.state, delivery.sent_at, delivery.last_error = WebhookDeliveryState.sent, now, None
            webhook.failures = 0
            return
        delivery.last_error = outcome.error
        webhook.failures += 1
        if delivery.attempts >= self.retry.max_attempts:
            delivery.state = WebhookDeliveryState.failed  # given up: the task's next event may go
        else:
            delivery.next_attempt_at = now + self.retry.delay(delivery.attempts)
        if webhook.active and webhook.failures >= self.pause_after:
            await _pause(session, webhook, outcome.error, now)


async def _pause(session: AsyncSession, webhook: Webhook, error: str, now: datetime) -> None:
    """Stop posting to it (what is queued waits, and goes when it is resumed) and tell its owner, in the
    inbox."""
    webhook.active = False
    webhook.paused_reason = f"paused after {webhook.failures} failed attempts in a row; the last: {error}"
    webhook.updated_at = now
    notice = Notification(
        id=uuid.uuid4(),
        user_id=webhook.user_id,
        task_id=None,
        kind=WEBHOOK_PAUSED,
        title="A webhook was paused",
        body=f"Posting to {webhook.url} {webhook.paused_reason[len('paused ') :]}. Fix it and resume it "
        f'(PATCH /api/webhooks/{webhook.id} with {{"active": true}}).',
        event_id=f"webhook-paused:{webhook.id}:{now.isoformat()}",
        created_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(notice)
    except IntegrityError:
        return
    wakeups.after_commit(session, wakeups.INBOX, str(webhook.user_id))


def _headers(job: _Job) -> dict[str, str]:
    return {
        "Content-Type": "application/cloudevents+json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature(job.secret, job.body),
        "X-Todo-Event": job.event_type,
        "X-Todo-Delivery": str(job.seq),
    }


def _ready(now: datetime) -> ColumnElement[bool]:
    return and_(
        WebhookDelivery.state == WebhookDeliveryState.pending,
        WebhookDelivery.next_attempt_at <= now,
        or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now),
    )


def _an_earlier_one_waits() -> ColumnElement[bool]:
    """Per task, in order: an earlier pending delivery of the same task to the same subscription."""
    earlier = aliased(WebhookDelivery)
    return exists().where(
        earlier.webhook_id == WebhookDelivery.webhook_id,
        earlier.subject == WebhookDelivery.subject,
        earlier.state == WebhookDeliveryState.pending,
        earlier.seq < WebhookDelivery.seq,
    )
