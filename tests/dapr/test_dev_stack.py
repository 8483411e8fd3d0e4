"""`todo dev stack` as a developer runs it: three service processes with their sidecars; a reminder goes
round Kafka, and the web UI reaches the API by Dapr service invocation (pages and the live stream)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.dapr.conftest import DaprParts
from tests.test_cli import Served, call, wait_healthy
from todo.platform.ports import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.dapr]
TODO = str(Path(sys.executable).with_name("todo"))


def test_the_dev_stack_runs_three_services_through_their_sidecars(
    dapr_parts: DaprParts, tmp_path: Path
) -> None:
    api_port, notifications_port, web_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("TODO_DATABASE_URL", "TODO_JWT_SECRET")}
    command = [
        TODO,
        "dev",
        "stack",
        "--api-port",
        str(api_port),
        "--notifications-port",
        str(notifications_port),
        "--web-port",
        str(web_port),
    ]
    process = Served(command, env={**env, "TODO_DATA_DIR": str(tmp_path)}, log=tmp_path / "dev-stack.log")
    try:
        base = f"http://127.0.0.1:{api_port}"
        wait_healthy(base, process, within=180)  # the first start may fetch Kafka and build daprd
        wait_healthy(f"http://127.0.0.1:{notifications_port}", process, within=60)
        wait_healthy(f"http://127.0.0.1:{web_port}", process, within=60)
        email = f"{uuid.uuid4().hex}@example.com"
        token = call(base, "POST", "/api/auth/register", {"email": email, "password": "password123"})[1][
            "access_token"
        ]
        due = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
        task = call(base, "POST", "/api/tasks", {"title": "Round Kafka", "due_date": due}, token)[1]
        deadline = time.monotonic() + 60  # a bound against hanging, not a latency claim
        while not (notes := call(base, "GET", "/api/notifications", token=token)[1]["items"]):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert [(n["kind"], n["task_id"]) for n in notes] == [("due", task["id"])]
        through_dapr(f"http://127.0.0.1:{web_port}", token, task["title"])
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    text = process.output()
    assert "todo dev stack: three services, three daprd, one Kafka" in text
    assert "Traceback" not in text
    running = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    assert not [line for line in running.splitlines() if f"--app-port {api_port}" in line]  # no sidecar left


def through_dapr(web: str, token: str, title: str) -> None:
    """The web UI has no address for the API: its pages and its live stream come through its sidecar."""
    with httpx.Client(base_url=web, cookies={"todo_session": token}, timeout=30) as browser:
        dashboard = browser.get("/")
        assert dashboard.status_code == 200, dashboard.text
        assert title in dashboard.text
        with browser.stream("GET", "/live") as live:  # Server-Sent Events through service invocation
            assert live.headers["content-type"].startswith("text/event-stream")
            assert next(live.iter_lines()) == "event: unread"
