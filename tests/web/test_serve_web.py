"""`todo serve web` as its own process in front of a running API at TODO_BACKEND_URL, as a deployment
without Dapr runs it; and Ctrl-C ends it at once even with a live stream open."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import httpx

from tests.test_cli import TODO, Served, start, stop, wait_healthy
from todo.platform.ports import free_port


def test_the_web_ui_serves_alone_against_the_backend_url(tmp_path: Path) -> None:
    api_port, web_port = free_port(), free_port()
    api = start(tmp_path / "api", api_port)  # the all-in-one stands in for the backend
    env = {k: v for k, v in os.environ.items() if not k.startswith("TODO_")}
    env |= {"TODO_BACKEND_URL": f"http://127.0.0.1:{api_port}", "TODO_DATA_DIR": str(tmp_path / "web")}
    web = Served([TODO, "serve", "web", "--port", str(web_port)], env=env, log=tmp_path / "web.log")
    try:
        base = f"http://127.0.0.1:{web_port}"
        wait_healthy(base, web)
        with httpx.Client(base_url=base, timeout=10) as browser:
            form = browser.get("/signup").text
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
            assert csrf
            fields = {"csrf_token": csrf.group(1), "email": "lin@example.com", "password": "password123"}
            signed_up = browser.post("/signup", data=fields)
            assert signed_up.status_code == 303, signed_up.text
            assert "Dashboard" in browser.get("/").text
            with browser.stream("GET", "/live") as live:
                assert next(live.iter_lines()) == "event: unread"
                started = time.monotonic()
                web.send_signal(signal.SIGINT)  # a stream is open: shutting down must not wait for it
                web.wait(timeout=15)
        assert time.monotonic() - started < 10
        assert web.returncode in (0, 130)
        assert "Traceback" not in web.output()
    finally:
        if web.poll() is None:
            web.kill()
        stop(api)
