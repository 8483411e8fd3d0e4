"""The pipeline floor's subscriber: an app that does nothing with its deliveries but note when they came.

Served as our services are (uvicorn, uvloop, httptools, no access log) behind its own daprd; answers
every bulk delivery's entries SUCCESS and keeps, per event, the seconds from the publisher's `sent` time
(in the event's data) to its arrival. `GET /latencies` hands over what it kept and forgets it.

    python bench/floor_subscriber.py PORT
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import uvicorn
from starlette.types import Receive, Scope, Send

latencies: list[float] = []


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    path = scope["path"]
    if path.startswith("/events/"):
        await _answer(send, _delivered(json.loads(body), received=time.time()))
    elif path == "/latencies":
        await _answer(send, list(latencies))
        latencies.clear()
    elif path == "/dapr/subscribe":
        await _answer(send, [])  # the subscriptions are the declarative ones of deploy/dapr
    else:
        await _answer(send, {"status": "ok"})


def _delivered(delivery: dict[str, Any], *, received: float) -> dict[str, Any]:
    statuses = []
    for entry in delivery["entries"]:
        latencies.append(received - entry["event"]["data"]["sent"])
        statuses.append({"entryId": entry["entryId"], "status": "SUCCESS"})
    return {"statuses": statuses}


async def _answer(send: Send, payload: object) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), lifespan="off", access_log=False,
                log_level="warning")  # fmt: skip
