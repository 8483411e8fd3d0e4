"""Webhook subscription use cases, and the deliveries of one. None commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from todo.auth.models import User
from todo.errors import Conflict, InvalidInput, NotFound
from todo.notifications.egress import EgressPolicy, RefusedTarget, check_host
from todo.webhooks.models import Webhook, WebhookDelivery
from todo.webhooks.schemas import LastDelivery, WebhookCreate, WebhookPatch, WebhookRead
from todo.webhooks.signing import new_secret

MOST_PER_USER = 20


async def create(
    session: AsyncSession, *, user: User, data: WebhookCreate, policy: EgressPolicy, now: datetime
) -> Webhook:
    count = await session.scalar(select(func.count()).select_from(Webhook).where(Webhook.user_id == user.id))
    if (count or 0) >= MOST_PER_USER:
        raise Conflict(f"you have {MOST_PER_USER} webhooks already: remove one first")
    await _check_target(data.url, policy)
    webhook = Webhook(id=uuid.uuid4(), user_id=user.id, url=data.url, events=data.events,
                      secret=data.secret or new_secret(), active=True, failures=0, created_at=now,
                      updated_at=now)  # fmt: skip
    session.add(webhook)
    await session.flush()
    return webhook


async def get_all(session: AsyncSession, *, user: User) -> list[WebhookRead]:
    """The user's subscriptions, each with its newest delivery (two statements for all of them)."""
    query = select(Webhook).where(Webhook.user_id == user.id).order_by(Webhook.created_at, Webhook.id)
    hooks = (await session.scalars(query)).all()
    newest = select(func.max(WebhookDelivery.seq)).where(
        WebhookDelivery.webhook_id.in_([h.id for h in hooks])
    )
    rows = await session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.seq.in_(newest.group_by(WebhookDelivery.webhook_id)))
    )
    last = {row.webhook_id: LastDelivery.model_validate(row) for row in rows}
    return [WebhookRead.model_validate(h).model_copy(update={"last_delivery": last.get(h.id)}) for h in hooks]


async def get(session: AsyncSession, *, user: User, webhook_id: uuid.UUID) -> Webhook:
    webhook = await session.scalar(
        select(Webhook).where(Webhook.id == webhook_id, Webhook.user_id == user.id)
    )
    if webhook is None:
        raise NotFound("webhook not found")
    return webhook


async def update(
    session: AsyncSession,
    *,
    user: User,
    webhook_id: uuid.UUID,
    patch: WebhookPatch,
    policy: EgressPolicy,
    now: datetime,
) -> Webhook:
    webhook = await get(session, user=user, webhook_id=webhook_id)
    if patch.url is not None:
        await _check_target(patch.url, policy)
        webhook.url = patch.url
    if patch.events is not None:
        webhook.events = patch.events
    if patch.active is not None:
        webhook.active = patch.active
        if patch.active:  # resumed: it starts counting again; what waited is sent now
            webhook.failures, webhook.paused_reason = 0, None
        else:
            webhook.paused_reason = "paused by you"
    webhook.updated_at = now
    return webhook


async def delete(session: AsyncSession, *, user: User, webhook_id: uuid.UUID) -> None:
    await session.delete(await get(session, user=user, webhook_id=webhook_id))


async def deliveries(
    session: AsyncSession, *, user: User, webhook_id: uuid.UUID, offset: int, limit: int
) -> tuple[Sequence[WebhookDelivery], int]:
    """The subscription's deliveries, newest first, and how many there are."""
    await get(session, user=user, webhook_id=webhook_id)
    mine = WebhookDelivery.webhook_id == webhook_id
    total = await session.scalar(select(func.count()).select_from(WebhookDelivery).where(mine))
    query = (
        select(WebhookDelivery).where(mine).order_by(WebhookDelivery.seq.desc()).offset(offset).limit(limit)
    )
    return (await session.scalars(query)).all(), total or 0


async def _check_target(url: str, policy: EgressPolicy) -> None:
    host = urlsplit(url).hostname
    if not host:
        raise InvalidInput("url", "names no host")
    try:
        await check_host(host, policy)
    except RefusedTarget as exc:
        raise InvalidInput("url", str(exc)) from exc
