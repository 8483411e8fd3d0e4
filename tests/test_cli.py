"""`todo up` as a new user runs it: a real process, real HTTP, Ctrl-C to stop."""

from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

from todo.platform.ports import free_port

TODO = str(Path(sys.executable).with_name("todo"))


def call(base: str, method: str, path: str, body: object = None, token: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        base + path, method=method, data=None if body is None else json.dumps(body).encode()
    )
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class Served(subprocess.Popen[bytes]):
    """A `todo` process whose output goes to a file: a pipe that nobody reads until the end fills up
    (64 KiB of access log) and then stalls the server on its next log line."""

    def __init__(self, args: list[str], *, env: dict[str, str], log: Path) -> None:
        log.parent.mkdir(parents=True, exist_ok=True)
        self.log = log
        with log.open("wb") as sink:  # the child keeps its own copy of the descriptor
            super().__init__(args, env=env, stdout=sink, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start(data_dir: Path, port: int, web_port: int | None = None) -> Served:
    env = {**os.environ, "TODO_DATA_DIR": str(data_dir), "TODO_API_PORT": str(port),
           "TODO_WEB_PORT": str(web_port or free_port())}  # fmt: skip
    env.pop("TODO_DATABASE_URL", None)
    env.pop("TODO_JWT_SECRET", None)
    process = Served([TODO, "up"], env=env, log=data_dir / "todo-up.log")
    wait_healthy(f"http://127.0.0.1:{port}", process)
    return process


def wait_healthy(base: str, process: Served, within: float = 30) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if call(base, "GET", "/healthz")[0] == 200:
                return
        except OSError:
            time.sleep(0.1)
    process.kill()
    process.wait(10)
    raise AssertionError(f"{process.args} did not become healthy:\n{process.output()}")


def stop(process: Served) -> str:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=20)
    text = process.output()
    # uvicorn re-raises SIGINT after a graceful shutdown, so the shell sees the usual 130
    assert process.returncode in (0, 130), text
    assert "Application shutdown complete" in text
    assert "Traceback" not in text
    return text


def test_todo_up_serves_the_spec_flow_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start(tmp_path, port)
    try:
        status, registered = call(
            base, "POST", "/api/auth/register", {"email": "new@example.com", "password": "password123"}
        )
        assert status == 201
        token = registered["access_token"]
        # a daily series that started ten days ago: today's (or yesterday's) occurrence and the next one
        now = datetime.now(UTC)
        start_at = (now - timedelta(days=10)).replace(hour=0, minute=30, second=0, microsecond=0)
        current = now.replace(hour=0, minute=30, second=0, microsecond=0)
        current -= timedelta(days=1) if current > now else timedelta(0)
        body = {"title": "Take medication", "recurrence_type": "daily", "start_date": start_at.isoformat()}
        status, series = call(base, "POST", "/api/recurring-tasks", body, token)
        assert (status, series["next_due_at"]) == (201, iso(current + timedelta(days=1)))
        tasks = call(base, "GET", "/api/tasks", token=token)[1]["items"]
        assert sorted(t["due_date"] for t in tasks) == [iso(current), iso(current + timedelta(days=1))]
        call(
            base,
            "POST",
            "/api/tasks",
            {"title": "Complete report", "due_date": "2025-01-15T17:00:00Z"},
            token,
        )
        deadline = time.monotonic() + 20  # a bound against hanging, not a latency claim
        while (stats := call(base, "GET", "/api/stats", token=token)[1])["totals"]["created"] < 3:
            assert time.monotonic() < deadline, stats
            time.sleep(0.05)
        assert stats["totals"]["created"] == 3  # the two occurrences and the task
    finally:
        output = stop(process)
    assert "Docs" in output
    assert f":{port}/docs" in output
    secret = tmp_path / "jwt-secret"
    assert secret.stat().st_mode & 0o777 == 0o600
    # a second start keeps the data and the secret: the old token still works
    process = start(tmp_path, port)
    try:
        status, me = call(base, "GET", "/api/me", token=token)
        assert (status, me["email"]) == (200, "new@example.com")
    finally:
        stop(process)


def test_ctrl_c_ends_open_live_streams_instead_of_waiting_for_them(tmp_path: Path) -> None:
    """A browser tab with the live inbox open must not hold `todo up` at Ctrl-C until uvicorn gives up."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start(tmp_path, port)
    token = call(base, "POST", "/api/auth/register", {"email": "s@example.com", "password": "password123"})[
        1
    ]["access_token"]
    request = urllib.request.Request(
        base + "/api/notifications/stream", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=60) as stream:
        assert stream.readline().startswith(b"event: unread")
        output = stop(process)  # asserts a clean shutdown, without a cancelled-request traceback
    assert "Application shutdown complete" in output


class _Hook(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        _Hook.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        return None


def test_a_task_due_shortly_notifies_in_app_and_by_webhook_at_its_time(tmp_path: Path) -> None:
    """The real clock: a task due in three seconds, a webhook channel on loopback."""
    hook = http.server.HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start(tmp_path, port)
    try:
        token = call(
            base, "POST", "/api/auth/register", {"email": "a@example.com", "password": "password123"}
        )[1]["access_token"]
        channel = {"url": f"json://127.0.0.1:{hook.server_port}/hook", "label": "webhook"}
        assert call(base, "PUT", "/api/me/channels", [channel], token)[0] == 200
        due = datetime.now(UTC) + timedelta(seconds=3)
        task = call(
            base, "POST", "/api/tasks", {"title": "Check the oven", "due_date": due.isoformat()}, token
        )[1]
        deadline = time.monotonic() + 30  # a bound against hanging, not a latency claim
        while not (notes := call(base, "GET", "/api/notifications", token=token)[1]["items"]):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        [note] = notes
        assert (note["kind"], note["title"], note["task_id"]) == (
            "due",
            "Due now: Check the oven",
            task["id"],
        )
        assert datetime.fromisoformat(note["created_at"]) >= due.replace(microsecond=0)  # never early
        while not _Hook.received:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert [(r["title"], r["message"]) for r in _Hook.received] == [(note["title"], note["body"])]
        assert call(base, "GET", f"/api/tasks/{task['id']}", token=token)[1]["notified"] is True
    finally:
        stop(process)
        hook.shutdown()


@pytest.mark.postgres
def test_api_and_notifications_services_work_as_separate_processes(postgres_url: str, tmp_path: Path) -> None:
    """The distributed roles on one PostgreSQL: the API takes the task, the notifications service's clock
    sends its reminder, and the two hear each other's commits through NOTIFY."""
    api_port, notifications_port = free_port(), free_port()
    env = {**os.environ, "TODO_DATABASE_URL": postgres_url, "TODO_JWT_SECRET": "s" * 40,
           "TODO_DATA_DIR": str(tmp_path), "TODO_CLOCK_MAX_SLEEP_SECONDS": "600"}  # fmt: skip
    api, notifications = (
        Served([TODO, "serve", role, "--port", str(port)], env=env, log=tmp_path / f"{role}.log")
        for role, port in (("api", api_port), ("notifications", notifications_port))
    )
    try:
        base = f"http://127.0.0.1:{api_port}"
        for port, process in ((api_port, api), (notifications_port, notifications)):
            wait_healthy(f"http://127.0.0.1:{port}", process)
        email = f"{uuid.uuid4().hex}@example.com"
        token = call(base, "POST", "/api/auth/register", {"email": email, "password": "password123"})[1][
            "access_token"
        ]
        due = datetime.now(UTC) + timedelta(seconds=2)
        task = call(base, "POST", "/api/tasks", {"title": "Stretch", "due_date": due.isoformat()}, token)[1]
        deadline = time.monotonic() + 30  # a bound against hanging, not a latency claim
        while not (notes := call(base, "GET", "/api/notifications", token=token)[1]["items"]):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert [(n["kind"], n["task_id"]) for n in notes] == [("due", task["id"])]
    finally:
        for process in (api, notifications):
            stop(process)


def test_services_refuse_to_start_without_a_secret(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TODO_JWT_SECRET"}
    result = subprocess.run([TODO, "serve", "api"], env={**env, "TODO_DATA_DIR": str(tmp_path)},
                            capture_output=True, text=True, timeout=30)  # fmt: skip
    assert result.returncode == 2
    assert "TODO_JWT_SECRET is not set" in result.stderr
