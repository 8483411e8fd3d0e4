"""/api/webhooks: where your events are posted, and how each delivery went."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from todo.deps import CurrentUser, NowDep, ReadSessionDep, SessionDep, SettingsDep
from todo.notifications.egress import EgressPolicy
from todo.platform.pagination import Page, PageParams, page_params
from todo.webhooks import service
from todo.webhooks.events import NAMES
from todo.webhooks.schemas import WebhookCreate, WebhookDeliveryRead, WebhookMade, WebhookPatch, WebhookRead

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])


def egress_policy(settings: SettingsDep) -> EgressPolicy:
    return EgressPolicy.allowing(settings.channel_allowed_networks)


PolicyDep = Annotated[EgressPolicy, Depends(egress_policy)]


@router.get("/events", response_model=list[str])
async def event_names() -> list[str]:
    """The events a webhook can subscribe to."""
    return sorted(NAMES)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WebhookMade)
async def create_webhook(
    data: WebhookCreate, user: CurrentUser, session: SessionDep, policy: PolicyDep, now: NowDep
) -> WebhookMade:
    """Each event of a task you can see, of the kinds in `events`, is posted to `url` as its CloudEvent
    (JSON), signed: `X-Todo-Signature: sha256=<hex HMAC-SHA256 of the body with the secret>`."""
    webhook = await service.create(session, user=user, data=data, policy=policy, now=now)
    await session.commit()
    return WebhookMade(**WebhookRead.model_validate(webhook).model_dump(), secret=webhook.secret)


@router.get("", response_model=list[WebhookRead])
async def list_webhooks(user: CurrentUser, session: ReadSessionDep) -> list[WebhookRead]:
    return await service.get_all(session, user=user)


@router.get("/{webhook_id}", response_model=WebhookRead)
async def read_webhook(webhook_id: uuid.UUID, user: CurrentUser, session: ReadSessionDep) -> WebhookRead:
    return WebhookRead.model_validate(await service.get(session, user=user, webhook_id=webhook_id))


@router.patch("/{webhook_id}", response_model=WebhookRead)
async def patch_webhook(
    webhook_id: uuid.UUID,
    data: WebhookPatch,
    user: CurrentUser,
    session: SessionDep,
    policy: PolicyDep,
    now: NowDep,
) -> WebhookRead:
    webhook = await service.update(
        session, user=user, webhook_id=webhook_id, patch=data, policy=policy, now=now
    )
    await session.commit()
    return WebhookRead.model_validate(webhook)


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(webhook_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> Response:
    await service.delete(session, user=user, webhook_id=webhook_id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{webhook_id}/deliveries", response_model=Page[WebhookDeliveryRead])
async def list_deliveries(
    webhook_id: uuid.UUID,
    user: CurrentUser,
    session: ReadSessionDep,
    paging: Annotated[PageParams, Depends(page_params)],
) -> Page[WebhookDeliveryRead]:
    """Every event queued for it, newest first, with how it went: sent, waiting to be tried again (and
    why the last try failed), or given up."""
    rows, total = await service.deliveries(
        session, user=user, webhook_id=webhook_id, offset=paging.offset, limit=paging.page_size
    )
    items = [WebhookDeliveryRead.model_validate(row) for row in rows]
    return Page(items=items, total=total, page=paging.page, page_size=paging.page_size)
