"""`todo smoke`, the pipeline's post-deploy check, against the real API and database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import Register
from todo import smoke
from todo.platform.ports import free_port

PASSWORD = "smoke-password-1"


async def test_the_first_run_registers_the_account_and_every_check_passes(client: httpx.AsyncClient) -> None:
    first = await smoke.run(client, "smoke@example.com", PASSWORD)
    assert [(c.name, c.ok) for c in first] == [
        ("API alive (/healthz)", True),
        ("database reachable (/readyz)", True),
        ("smoke account signed in", True),
        ("task created", True),
        ("task read back", True),
        ("task deleted", True),
    ]
    assert first[2].detail == "registered (first run)"
    second = await smoke.run(client, "smoke@example.com", PASSWORD)
    assert all(c.ok for c in second)
    assert second[2].detail == "signed in"
    token = await client.post("/api/auth/login", json={"email": "smoke@example.com", "password": PASSWORD})
    tasks = await client.get(
        "/api/tasks", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    )
    assert tasks.json()["total"] == 0  # it cleans up after itself


async def test_a_wrong_password_for_the_account_fails_at_sign_in(
    client: httpx.AsyncClient, register: Register
) -> None:
    await register(email="smoke@example.com", password="another-password")
    checks = await smoke.run(client, "smoke@example.com", PASSWORD)
    assert [c.ok for c in checks] == [True, True, False]
    assert "registering answered 409" in checks[-1].detail


async def test_the_commands_default_account_is_one_the_api_accepts(client: httpx.AsyncClient) -> None:
    checks = await smoke.run(client, smoke.DEFAULT_EMAIL, PASSWORD)
    assert all(c.ok for c in checks), checks[-1]


def test_the_command_fails_when_the_api_cannot_be_reached() -> None:
    todo = Path(sys.executable).with_name("todo")
    result = subprocess.run([str(todo), "smoke", f"http://127.0.0.1:{free_port()}"], capture_output=True,
                            text=True, env={"TODO_SMOKE_PASSWORD": PASSWORD, "COLUMNS": "200"})  # fmt: skip
    assert result.returncode == 1
    assert "API reachable" in result.stderr
    assert "FAILED" in result.stderr
