"""Personal API tokens: shown once and kept hashed, read-only or not, listed with their last use, refused
at once when revoked, and never a way to manage sign-ins or tokens."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import httpx
from sqlalchemy import select

from tests.conftest import Register
from todo.auth.models import ApiToken
from todo.bootstrap import Container
from todo.clock import FrozenClock


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_read_token_reads_and_is_refused_every_write(
    client: httpx.AsyncClient, auth: dict[str, str], container: Container
) -> None:
    assert (await client.post("/api/tasks", json={"title": "Pay rent"}, headers=auth)).status_code == 201
    made = await client.post("/api/me/tokens", json={"name": "dashboard", "scope": "read"}, headers=auth)
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    assert token.startswith("todo_pat_")
    assert made.json()["hint"] == token[:13]

    listed = (await client.get("/api/tasks", headers=bearer(token))).json()
    assert [t["title"] for t in listed["items"]] == ["Pay rent"]
    assert (await client.get("/api/me", headers=bearer(token))).json()["email"].endswith("@example.com")
    for method, url, body in (
        ("POST", "/api/tasks", {"title": "Sneaked in"}),
        ("PATCH", f"/api/tasks/{listed['items'][0]['id']}", {"title": "Changed"}),
        ("PATCH", "/api/me", {"display_name": "Someone else"}),
        ("POST", "/api/projects", {"name": "Mine"}),
    ):
        refused = await client.request(method, url, json=body, headers=bearer(token))
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden"), (method, url)
        assert "may only read" in refused.json()["error"]["message"]
    assert (await client.get("/api/tasks", headers=auth)).json()["total"] == 1

    async with container.sessions() as session:
        stored = (await session.scalars(select(ApiToken.token_hash))).all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]  # the token itself is nowhere


async def test_a_write_token_writes_but_manages_no_tokens_or_sign_ins(
    client: httpx.AsyncClient, auth: dict[str, str], clock: FrozenClock
) -> None:
    made = (await client.post("/api/me/tokens", json={"name": "sync", "scope": "write"}, headers=auth)).json()
    assert made["last_used_at"] is None
    created = await client.post("/api/tasks", json={"title": "From a script"}, headers=bearer(made["token"]))
    assert (created.status_code, created.json()["title"]) == (201, "From a script")
    for method, url, body in (
        ("POST", "/api/me/tokens", {"name": "another", "scope": "write"}),
        ("GET", "/api/me/tokens", None),
        ("DELETE", f"/api/me/tokens/{made['id']}", None),
        ("POST", "/api/me/password", {"current_password": "password123", "new_password": "something else 1"}),
        ("GET", "/api/auth/sessions", None),
    ):
        refused = await client.request(method, url, json=body, headers=bearer(made["token"]))
        assert refused.status_code == 403, (method, url, refused.text)

    [listed] = (await client.get("/api/me/tokens", headers=auth)).json()
    assert "token" not in listed
    used_at = clock.now().isoformat().replace("+00:00", "Z")
    assert (listed["name"], listed["scope"], listed["last_used_at"]) == ("sync", "write", used_at)
    clock.advance(timedelta(seconds=30))
    await client.get("/api/tasks", headers=bearer(made["token"]))
    [again] = (await client.get("/api/me/tokens", headers=auth)).json()
    assert again["last_used_at"] == listed["last_used_at"]  # noted at most once a minute


async def test_a_revoked_token_is_refused_at_once_and_only_its_owner_revokes_it(
    client: httpx.AsyncClient, register: Register
) -> None:
    auth, other = await register(), await register()
    made = (await client.post("/api/me/tokens", json={"name": "ci", "scope": "write"}, headers=auth)).json()
    assert (await client.get("/api/tasks", headers=bearer(made["token"]))).status_code == 200
    assert (await client.delete(f"/api/me/tokens/{made['id']}", headers=other)).status_code == 404
    assert (await client.delete(f"/api/me/tokens/{made['id']}", headers=auth)).status_code == 204
    refused = await client.get("/api/tasks", headers=bearer(made["token"]))
    assert (refused.status_code, refused.json()["error"]["message"]) == (401, "unknown or revoked API token")
    forged = await client.get("/api/tasks", headers=bearer("todo_pat_" + "x" * 43))
    assert forged.status_code == 401
    assert (await client.get("/api/me/tokens", headers=auth)).json() == []


async def test_bad_token_input_is_refused_naming_the_field(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    for body, field in (
        ({"name": "x", "scope": "admin"}, "scope"),
        ({"name": "", "scope": "read"}, "name"),
        ({"scope": "read"}, "name"),
        ({"name": "x" * 101, "scope": "read"}, "name"),
    ):
        refused = await client.post("/api/me/tokens", json=body, headers=auth)
        assert refused.status_code == 422, body
        assert refused.json()["error"]["fields"][0]["field"] == field
    assert (await client.get("/api/me/tokens", headers=auth)).json() == []
