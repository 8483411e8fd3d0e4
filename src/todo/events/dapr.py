"""The Dapr transport: publish through the sidecar's HTTP API, receive through Dapr's subscription calls.

Publishing sends our own CloudEvent (`application/cloudevents+json`, so Dapr keeps its `id`) with the
task id as the Kafka partition key, so one task's events stay in order. Receiving: the sidecar loads the
declarative subscriptions of deploy/dapr/subscriptions.yaml (bulk, with a dead-letter topic) and POSTs
each delivery to `/events/{topic}` (`DaprDeliveries`); it is handed to the consumer framework and answered
with Dapr's per-entry SUCCESS / RETRY / DROP (DROP goes to the dead-letter topic).
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Receive, Scope, Send

from todo.events.consumers import ConsumerRegistry, deliver_to_all
from todo.events.envelope import CloudEvent, MalformedEvent, parse_cloudevent
from todo.events.transport import DeliveryStatus
from todo.platform.metrics import EVENT_HOP_SECONDS

log = logging.getLogger(__name__)

CLOUDEVENTS_JSON = "application/cloudevents+json"


class DaprPublisher:
    """Publishes through the sidecar: one bulk call per topic in the batch, each keeping the events' order
    (with the task id as partition key, one task's events stay in order on one partition).
    `publish` answers how many events, counted from the first, were accepted.

    The calls go through aiohttp: this is the relay's hot path, and httpx spent 1.5 ms of CPU a request
    here against aiohttp's 0.26 ms (bench/event_pipeline.py's relay, measured side by side)."""

    def __init__(
        self,
        *,
        http_port: int,
        pubsub: str,
        headers: dict[str, str] | None = None,
        timeout_seconds: float = 10.0,
    ) -> None:
        self.pubsub = pubsub
        self._base = f"http://127.0.0.1:{http_port}"
        self._headers = headers or {}  # the sidecar's API token
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._http: aiohttp.ClientSession | None = None  # made on first use, inside the running loop

    async def publish(self, events: Sequence[CloudEvent]) -> int:
        by_topic: dict[str, list[int]] = defaultdict(list)
        for index, event in enumerate(events):
            by_topic[event.topic].append(index)
        first_failure = len(events)
        for topic, indexes in by_topic.items():
            published = await self._publish_topic(topic, [events[i] for i in indexes])
            if published < len(indexes):
                first_failure = min(first_failure, indexes[published])
        return first_failure

    async def _publish_topic(self, topic: str, events: list[CloudEvent]) -> int:
        """How many of `events`, from the first, the sidecar took."""
        entries = [
            {"entryId": str(n), "event": e.to_json(), "contentType": CLOUDEVENTS_JSON,
             "metadata": {"partitionKey": e.subject}}
            for n, e in enumerate(events)
        ]  # fmt: skip
        if self._http is None:
            self._http = aiohttp.ClientSession(self._base, timeout=self._timeout, headers=self._headers)
        url = f"/v1.0-alpha1/publish/bulk/{self.pubsub}/{topic}"
        try:
            async with self._http.post(url, json=entries) as response:
                if response.status == 204:
                    return len(events)
                body = await response.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = str(exc) or type(exc).__name__  # a timeout has no message
            log.warning("sidecar unreachable", extra={"error": error, "topic": topic})
            return 0
        log.warning("sidecar refused events", extra={"status": response.status, "body": body[:500]})
        return min(_failed_entries(body), default=0)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()


def _failed_entries(body: str) -> list[int]:
    try:
        failed = json.loads(body).get("failedEntries") or []
        return [int(entry["entryId"]) for entry in failed]
    except (ValueError, KeyError, TypeError, AttributeError):
        return []


class DaprDeliveries:
    """The calls daprd makes to the app, answered in plain ASGI in front of it: the subscription list and
    one bulk delivery route per topic (`POST /events/{topic}`). Everything else goes on to `app`.

    Deliveries are the notifications service's hot path, called by its own sidecar on loopback: FastAPI's
    routing and request object, the access log line and JSON encoding of the answer cost it a sixth of its
    time at 1,000 events/s (py-spy), more than parsing and handling the events."""

    PREFIX = "/events/"

    def __init__(
        self, app: ASGIApp, *, registry: ConsumerRegistry, sessions: async_sessionmaker[AsyncSession],
        max_body_bytes: int, one_statement: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:  # fmt: skip
        self.app = app
        self.registry = registry
        self.sessions = sessions
        self.one_statement = one_statement  # see deliver_to_all
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and scope["method"] == "POST" and path.startswith(self.PREFIX):
            body = await _read_body(receive, self.max_body_bytes)
            if body is None:
                await _respond(send, 413, b'{"detail": "the delivery is too large or was cut short"}')
            else:
                await _respond(send, 200, await self.deliver(path[len(self.PREFIX) :], body))
        elif scope["type"] == "http" and path == "/dapr/subscribe":
            # None here: the subscriptions are declared in deploy/dapr/subscriptions.yaml, one file for
            # the cluster and local runs alike (declaring them twice would subscribe twice).
            await _respond(send, 200, b"[]")
        else:
            await self.app(scope, receive, send)

    async def deliver(self, topic: str, body: bytes) -> bytes:
        """Dapr's answer to one delivery: per entry for a bulk one, else a single status. A body that is
        not JSON is one malformed event (DROP: to the dead-letter topic)."""
        received_at = time.time()
        try:
            delivery = json.loads(body)
        except ValueError:
            delivery = None
        if isinstance(delivery, dict) and isinstance(delivery.get("entries"), list):
            entries = [e if isinstance(e, dict) else {} for e in delivery["entries"]]
            statuses = await self._handle(topic, [e.get("event") for e in entries])
            _observe_hops(entries, received_at, answered_at=time.time())
            answers = [{"entryId": str(e.get("entryId", "")), "status": s.value}
                       for e, s in zip(entries, statuses, strict=True)]  # fmt: skip
            return json.dumps({"statuses": answers}).encode()
        [status] = await self._handle(topic, [delivery])
        return json.dumps({"status": status.value}).encode()

    async def _handle(self, topic: str, payloads: list[Any]) -> list[DeliveryStatus]:
        """Parse each delivery once and hand the batch to every consumer of the topic in this app.
        Consumers are idempotent, so a RETRY redelivers harmlessly to those that already succeeded."""
        statuses = [DeliveryStatus.SUCCESS] * len(payloads)
        events: list[tuple[int, CloudEvent]] = []
        for index, payload in enumerate(payloads):
            try:
                events.append((index, parse_cloudevent(payload, topic=topic)))
            except MalformedEvent as exc:
                log.error("dropping a malformed delivery", extra={"topic": topic, "why": str(exc)})
                statuses[index] = DeliveryStatus.DROP
        answered = await deliver_to_all(self.registry.for_topic(topic), [e for _, e in events], self.sessions,
                                        one_statement=self.one_statement)  # fmt: skip
        for (index, _), status in zip(events, answered, strict=True):
            statuses[index] = status
        return statuses


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None past `limit` bytes."""
    chunks: list[bytes] = []
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return None  # the client went away
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _respond(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _observe_hops(entries: list[dict[str, Any]], received_at: float, *, answered_at: float) -> None:
    """Per event: from Kafka's record time (set by the publishing sidecar's producer as it sends) to this
    delivery, and from this delivery to the answer."""
    transit, consume = EVENT_HOP_SECONDS.labels(hop="transit"), EVENT_HOP_SECONDS.labels(hop="consume")
    for entry in entries:
        metadata = entry.get("metadata")
        sent_ms = metadata.get("__timestamp") if isinstance(metadata, dict) else None
        if isinstance(sent_ms, str) and sent_ms.isdigit():
            transit.observe(max(received_at - int(sent_ms) / 1000, 0.0))
        consume.observe(answered_at - received_at)
