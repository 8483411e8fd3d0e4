"""Channels for real: email to a local SMTP server, webhook JSON to a local HTTP server, a refusing channel
retried and recorded while the others deliver. Both servers run on loopback inside the test."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session
from sqlalchemy import select

from tests.conftest import ContainerFactory, Register, announce, api_client, settle, sign_up
from todo.bootstrap import Container
from todo.clock import FrozenClock
from todo.events.envelope import TASK_DUE
from todo.notifications.channels import AppriseSender
from todo.notifications.egress import EgressPolicy
from todo.notifications.models import Channel, Delivery, DeliveryAttempt
from todo.notifications.sending import ChannelError
from todo.platform.ports import free_port


@dataclass
class Mailbox:
    messages: list[Envelope] = field(default_factory=list)

    async def handle_DATA(self, _server: object, _session: Session, envelope: Envelope) -> str:  # noqa: N802
        self.messages.append(envelope)
        return "250 OK"


@dataclass
class Webhook:
    """Answers `status` to every POST and keeps the JSON bodies."""

    port: int
    status: int = 200
    received: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, str]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, f"mailto://127.0.0.1:{port}?from=todo@example.com&to=ada@example.com"
    controller.stop()


@pytest.fixture
async def webhooks() -> AsyncIterator[list[Webhook]]:
    """Two webhook servers on loopback: [0] accepts, [1] refuses until told otherwise."""
    hooks = [Webhook(free_port()), Webhook(free_port(), status=503)]
    runners = []
    for hook in hooks:
        app = web.Application()
        app.router.add_post("/hook", _receiver(hook))
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", hook.port).start()
        runners.append(runner)
    yield hooks
    for runner in runners:
        await runner.cleanup()


def _receiver(hook: Webhook) -> Any:
    async def receive(request: web.Request) -> web.Response:
        if hook.status == 200:
            hook.received.append(await request.json())
        return web.Response(status=hook.status, text="ok" if hook.status == 200 else "unavailable")

    return receive


async def put_channels(
    client: httpx.AsyncClient, auth: dict[str, str], channels: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    response = await client.put("/api/me/channels", json=channels, headers=auth)
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


async def test_channels_are_validated_and_their_secrets_masked(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    saved = await put_channels(client, auth, [
        {"url": "mailto://ada:s3cret-pass@example.com", "label": "Email"},
        {"url": "ntfy://ntfy.sh/my-topic", "label": "Phone", "enabled": False},
    ])  # fmt: skip
    assert [(c["label"], c["service"], c["enabled"]) for c in saved] == [
        ("Email", "E-Mail", True),
        ("Phone", "ntfy", False),
    ]
    assert "s3cret-pass" not in json.dumps(saved)
    listed = (await client.get("/api/me/channels", headers=auth)).json()
    assert listed == saved
    # keeping one by id (its URL stays), dropping the other
    kept = await put_channels(client, auth, [{"id": saved[0]["id"], "label": "Mail"}])
    assert [(c["id"], c["label"], c["url"]) for c in kept] == [(saved[0]["id"], "Mail", saved[0]["url"])]
    bad = await client.put("/api/me/channels", json=[{"url": "carrier-pigeon://coo"}], headers=auth)
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"][0]["field"] == "0.url"
    assert (await client.get("/api/me/channels", headers=auth)).json() == kept  # nothing lost


async def test_send_a_test_reaches_each_channel_and_reports_the_refusal(
    client: httpx.AsyncClient, auth: dict[str, str], mailbox: tuple[Mailbox, str], webhooks: list[Webhook]
) -> None:
    box, mail_url = mailbox
    await put_channels(client, auth, [
        {"url": mail_url, "label": "mail"}, {"url": webhooks[0].url, "label": "ok"},
        {"url": webhooks[1].url, "label": "down"},
    ])  # fmt: skip
    response = await client.post("/api/me/channels/test", headers=auth)
    results = {r["label"]: r for r in response.json()}
    assert (results["mail"]["ok"], results["ok"]["ok"], results["down"]["ok"]) == (True, True, False)
    assert "503" in results["down"]["error"]
    assert [m.rcpt_tos for m in box.messages] == [["ada@example.com"]]
    assert webhooks[0].received[0]["title"] == "todo: test notification"


async def test_a_reminder_goes_out_by_email_and_webhook_and_a_refusing_channel_is_retried(
    client: httpx.AsyncClient,
    register: Register,
    container: Container,
    clock: FrozenClock,
    mailbox: tuple[Mailbox, str],
    webhooks: list[Webhook],
) -> None:
    box, mail_url = mailbox
    working, refusing = webhooks
    auth = await register(timezone="Europe/Berlin")
    await put_channels(client, auth, [{"url": mail_url}, {"url": working.url}, {"url": refusing.url}])
    task = (await client.post("/api/tasks", json={"title": "Pay rent", "due_date": "2026-06-15T16:00:00Z"},
                              headers=auth)).json()  # fmt: skip
    await announce(container, TASK_DUE, task["id"])
    await settle(container)

    [note] = (await client.get("/api/notifications", headers=auth)).json()["items"]  # the in-app copy
    [posted] = working.received
    assert (posted["title"], posted["message"]) == ("Due now: Pay rent", note["body"])
    assert note["body"] == "Pay rent is due today at 18:00 (Europe/Berlin)."
    [mail] = box.messages
    assert b"Subject: Due now: Pay rent" in mail.content  # type: ignore[operator]
    attempts = await _attempts(container)
    assert attempts[refusing.url] == [(False, "503")]  # recorded, to be retried
    assert (attempts[working.url], attempts[mail_url]) == ([(True, None)], [(True, None)])

    refusing.status = 200
    clock.advance(timedelta(seconds=4))
    await settle(container)
    assert refusing.received == []  # the backoff is 5 s
    clock.advance(timedelta(seconds=1))
    await settle(container)
    assert [r["title"] for r in refusing.received] == ["Due now: Pay rent"]
    assert (await _attempts(container))[refusing.url] == [(False, "503"), (True, None)]
    assert (len(working.received), len(box.messages)) == (1, 1)  # nobody got it twice


async def _attempts(container: Container) -> dict[str, list[tuple[bool, str | None]]]:
    """Per channel URL: (ok, the HTTP status named in the error) for each attempt, in order."""
    async with container.sessions() as session:
        rows = await session.execute(
            select(Channel.url, DeliveryAttempt.ok, DeliveryAttempt.error)
            .join(Delivery, Delivery.id == DeliveryAttempt.delivery_id)
            .join(Channel, Channel.id == Delivery.channel_id)
            .order_by(DeliveryAttempt.id)
        )
        found: dict[str, list[tuple[bool, str | None]]] = {}
        for url, ok, error in rows:
            found.setdefault(url, []).append(
                (ok, None if error is None else ("503" if "503" in error else error))
            )
    return found


async def test_a_channel_that_keeps_failing_is_flagged_and_its_owner_told_in_the_inbox(
    client: httpx.AsyncClient,
    register: Register,
    container: Container,
    clock: FrozenClock,
    webhooks: list[Webhook],
) -> None:
    working, refusing = webhooks
    auth = await register(timezone="Europe/Berlin")
    await put_channels(
        client, auth, [{"url": working.url, "label": "Works"}, {"url": refusing.url, "label": "Hook"}]
    )
    channels = {c["label"]: c for c in (await client.get("/api/me/channels", headers=auth)).json()}
    assert (channels["Hook"]["last_delivery"], channels["Hook"]["failing"]) == (
        None,
        False,
    )  # nothing sent yet
    task = (await client.post("/api/tasks", json={"title": "Pay rent", "due_date": "2026-06-15T16:00:00Z"},
                              headers=auth)).json()  # fmt: skip
    await announce(container, TASK_DUE, task["id"])
    await settle(container)
    channels = {c["label"]: c for c in (await client.get("/api/me/channels", headers=auth)).json()}
    assert channels["Hook"]["last_delivery"]["ok"] is False
    assert "503" in channels["Hook"]["last_delivery"]["error"]
    assert channels["Hook"]["failing"] is False  # once is not "keeps failing"
    assert channels["Works"]["last_delivery"]["ok"] is True

    for _ in range(8):  # through every retry's backoff until the worker gives up
        clock.advance(timedelta(hours=2))
        await settle(container)
    channels = {c["label"]: c for c in (await client.get("/api/me/channels", headers=auth)).json()}
    assert (channels["Hook"]["failing"], channels["Works"]["failing"]) == (True, False)
    inbox = (await client.get("/api/notifications", headers=auth)).json()["items"]
    notices = [n for n in inbox if n["kind"] == "channel_failing"]
    assert [n["title"] for n in notices] == ["“Hook” is not delivering"]
    assert "503" in notices[0]["body"]
    assert refusing.received == []  # the notice goes to the inbox, not to the broken channel


INSIDE_URLS = [
    ("json://127.0.0.1:3500/v1.0/publish/pubsub/task-completed", "127.0.0.1 is a loopback address"),
    ("json://localhost:3500/v1.0/state/statestore", "localhost resolves to"),
    ("jsons://169.254.169.254/latest/meta-data", "a link-local address"),
    ("mailto://ada:pass@example.com?smtp=10.96.0.10", "10.96.0.10 is a private address"),
]


async def test_a_channel_inside_our_network_is_refused_as_it_is_saved(
    make_container: ContainerFactory,
) -> None:
    container = await make_container(channel_allowed_networks=[])  # as the cluster's values have it
    async with api_client(container) as client:
        auth = await sign_up(client)
        for url, why in INSIDE_URLS:
            response = await client.put("/api/me/channels", json=[{"url": url}], headers=auth)
            assert response.status_code == 422, url
            [problem] = response.json()["error"]["fields"]
            assert problem["field"] == "0.url"
            assert why in problem["reason"], problem
        assert (await client.get("/api/me/channels", headers=auth)).json() == []  # nothing half-saved


async def test_a_send_is_checked_again_on_the_addresses_it_resolves(
    webhooks: list[Webhook], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a URL names is checked before sending; what the send itself resolves (a name that changed
    its address since, an SMTP server named elsewhere) is checked by the guard, in Apprise's threads."""
    allowed = AppriseSender(EgressPolicy.allowing(["127.0.0.0/8"]))
    await allowed.send(webhooks[0].url, title="t", body="reaches it")
    assert [r["message"] for r in webhooks[0].received] == ["reaches it"]

    refusing = AppriseSender(EgressPolicy())
    monkeypatch.setattr(refusing, "_check_hosts", _nothing_named)  # as if the URL had named a public host
    with pytest.raises(ChannelError):
        await refusing.send(webhooks[0].url, title="t", body="stopped")
    assert [r["message"] for r in webhooks[0].received] == ["reaches it"]


async def _nothing_named(_plugin: object) -> None:
    return None
