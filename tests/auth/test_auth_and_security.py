"""Accounts, tokens, rate limits, scoping to the caller, and hostile input."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import jwt
import pytest

from tests.conftest import SECRET, ContainerFactory, Register
from todo.clock import FrozenClock


async def test_register_login_json_and_form(client: httpx.AsyncClient) -> None:
    body = {"email": "Ada@Example.com", "password": "correct horse", "timezone": "Europe/London"}
    registered = await client.post("/api/auth/register", json=body)
    assert registered.status_code == 201
    assert registered.json()["user"]["email"] == "ada@example.com"
    duplicate = await client.post("/api/auth/register", json={**body, "email": "ada@example.com"})
    assert duplicate.status_code == 409
    as_json = await client.post(
        "/api/auth/login", json={"email": "ada@example.com", "password": "correct horse"}
    )
    assert as_json.status_code == 200
    assert as_json.json()["token_type"] == "bearer"
    as_form = await client.post(
        "/api/auth/login", data={"username": "ADA@example.com", "password": "correct horse"}
    )
    assert as_form.status_code == 200
    me = await client.get("/api/me", headers={"Authorization": f"Bearer {as_form.json()['access_token']}"})
    assert (me.json()["email"], me.json()["timezone"]) == ("ada@example.com", "Europe/London")


async def test_wrong_password_and_unknown_account_look_alike(
    client: httpx.AsyncClient, register: Register
) -> None:
    await register(email="bob@example.com")
    wrong = await client.post("/api/auth/login", json={"email": "bob@example.com", "password": "nope-nope"})
    unknown = await client.post(
        "/api/auth/login", json={"email": "nobody@example.com", "password": "nope-nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]


async def test_login_is_rate_limited_per_account(client: httpx.AsyncClient, register: Register) -> None:
    await register(email="carol@example.com")
    for _ in range(10):
        response = await client.post(
            "/api/auth/login", json={"email": "carol@example.com", "password": "bad-guess"}
        )
        assert response.status_code == 401
    blocked = await client.post(
        "/api/auth/login", json={"email": "carol@example.com", "password": "password123"}
    )
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert blocked.json()["error"]["code"] == "rate_limited"


async def test_login_is_rate_limited_per_client_address(client: httpx.AsyncClient) -> None:
    statuses = [
        (
            await client.post("/api/auth/login", json={"email": f"u{i}@example.com", "password": "whatever1"})
        ).status_code
        for i in range(61)
    ]
    assert statuses[:60] == [401] * 60
    assert statuses[60] == 429


async def test_profile_update_validates_timezone(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    ok = await client.patch("/api/me", json={"display_name": "Ada", "timezone": "Asia/Tokyo"}, headers=auth)
    assert (ok.json()["display_name"], ok.json()["timezone"]) == ("Ada", "Asia/Tokyo")
    bad = await client.patch("/api/me", json={"timezone": "Europe/Atlantis"}, headers=auth)
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"][0]["field"] == "timezone"


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not-a-jwt", "Basic dXNlcjpwYXNz"])
async def test_missing_or_malformed_tokens_are_401(client: httpx.AsyncClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = await client.get("/api/tasks", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "unauthorized"


async def test_expired_token_is_401(
    client: httpx.AsyncClient, auth: dict[str, str], clock: FrozenClock
) -> None:
    assert (await client.get("/api/me", headers=auth)).status_code == 200
    clock.advance(timedelta(days=401))  # the tests' tokens live 400 days
    response = await client.get("/api/me", headers=auth)
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "token expired"


async def test_tampered_token_is_401(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    token = auth["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    forged = jwt.encode({**claims, "sub": "00000000-0000-0000-0000-000000000001"}, "another-secret" * 4)
    header, payload, signature = token.split(".")
    flipped = f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    for bad in (forged, flipped):
        assert (await client.get("/api/me", headers={"Authorization": f"Bearer {bad}"})).status_code == 401


async def test_another_users_things_answer_404(client: httpx.AsyncClient, register: Register) -> None:
    alice, mallory = await register(), await register()
    task = (await client.post("/api/tasks", json={"title": "private"}, headers=alice)).json()
    series = (
        await client.post(
            "/api/recurring-tasks",
            json={"title": "s", "recurrence_type": "daily", "start_date": "2026-07-01T09:00:00Z"},
            headers=alice,
        )
    ).json()
    probes = [
        ("GET", f"/api/tasks/{task['id']}", None),
        ("PUT", f"/api/tasks/{task['id']}", {"title": "hijacked"}),
        ("PATCH", f"/api/tasks/{task['id']}", {"title": "hijacked"}),
        ("POST", f"/api/tasks/{task['id']}/complete", None),
        ("DELETE", f"/api/tasks/{task['id']}", None),
        ("GET", f"/api/tasks/{task['id']}/events", None),
        ("GET", f"/api/recurring-tasks/{series['id']}", None),
        ("PUT", f"/api/recurring-tasks/{series['id']}", {"title": "hijacked"}),
        ("DELETE", f"/api/recurring-tasks/{series['id']}", None),
        ("GET", f"/api/recurring-tasks/{series['id']}/occurrences", None),
    ]
    for method, url, body in probes:
        response = await client.request(method, url, json=body, headers=mallory)
        assert response.status_code == 404, (method, url, response.status_code)
    assert (await client.get("/api/tasks", headers=mallory)).json()["total"] == 0
    assert (await client.get("/api/recurring-tasks", headers=mallory)).json()["total"] == 0
    still = (await client.get(f"/api/tasks/{task['id']}", headers=alice)).json()
    assert (still["title"], still["completed"]) == ("private", False)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "x" * 201}, "title"),
        ({"title": "   "}, "title"),
        ({"title": 42}, "title"),
        ({"title": "ok", "priority": 4}, "priority"),
        ({"title": "ok", "priority": "high"}, "priority"),
        ({"title": "ok", "priority": 10**30}, "priority"),
        ({"title": "ok", "due_date": "tomorrow"}, "due_date"),
        ({"title": "ok", "tags": ["a"] * 21}, "tags"),
        ({"title": "ok", "tags": ["x" * 51]}, "tags.0"),
        ({"title": "ok", "description": "d" * 10_001}, "description"),
        ({"title": "ok", "owner": "someone else"}, "owner"),
        ({"title": "nul \u0000 inside"}, "title"),
        ({"title": "ok", "tags": ["\u0000"]}, "tags.0"),
        ({"title": "ok", "due_date": "0001-01-01T00:00:00+05:00"}, "due_date"),
        ({"title": "ok", "due_date": "9999-12-31T23:59:59-05:00"}, "due_date"),
        ({}, "title"),
    ],
)
async def test_bad_task_input_is_422_naming_the_field(
    client: httpx.AsyncClient, auth: dict[str, str], body: dict[str, object], field: str
) -> None:
    response = await client.post("/api/tasks", json=body, headers=auth)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in [f["field"] for f in error["fields"]]
    assert (await client.get("/api/tasks", headers=auth)).json()["total"] == 0


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(b"{not json", "application/json"), (b"[1, 2]", "application/json"), (b"\xff\xfe", "application/json")],
)
async def test_malformed_bodies_are_422(
    client: httpx.AsyncClient, auth: dict[str, str], content: bytes, content_type: str
) -> None:
    response = await client.post(
        "/api/tasks", content=content, headers={**auth, "Content-Type": content_type}
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"]


async def test_bad_path_and_query_values_are_422(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    bad_id = await client.get("/api/tasks/not-a-uuid", headers=auth)
    assert bad_id.status_code == 422
    assert bad_id.json()["error"]["fields"][0]["field"] == "path.task_id"
    bad_query = await client.get("/api/tasks?due_state=someday&page=0", headers=auth)
    assert {f["field"] for f in bad_query.json()["error"]["fields"]} == {"query.due_state", "query.page"}


async def test_oversized_bodies_are_422_naming_the_body(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    big = b'{"title": "' + b"x" * 2_000_000 + b'"}'

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit is found while reading
        for start in range(0, len(big), 65_536):
            yield big[start : start + 65_536]

    headers = {**auth, "Content-Type": "application/json"}
    for content in (big, chunks()):
        response = await client.post("/api/tasks", content=content, headers=headers)
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert (error["code"], error["fields"][0]["field"]) == ("payload_too_large", "body")
    assert (await client.get("/api/tasks", headers=auth)).json()["total"] == 0


async def test_bad_login_and_register_input(client: httpx.AsyncClient) -> None:
    short = await client.post("/api/auth/register", json={"email": "a@example.com", "password": "short"})
    assert [f["field"] for f in short.json()["error"]["fields"]] == ["password"]
    not_email = await client.post("/api/auth/register", json={"email": "nope", "password": "long enough"})
    assert [f["field"] for f in not_email.json()["error"]["fields"]] == ["email"]
    empty_form = await client.post("/api/auth/login", data={"username": "", "password": "x"})
    assert empty_form.status_code == 422
    assert "email" in [f["field"] for f in empty_form.json()["error"]["fields"]]


async def test_profile_changes_show_at_once_despite_the_user_cache(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    assert (await client.get("/api/me", headers=auth)).json()["timezone"] == "UTC"  # now cached
    await client.patch("/api/me", json={"timezone": "Asia/Tokyo"}, headers=auth)
    assert (await client.get("/api/me", headers=auth)).json()["timezone"] == "Asia/Tokyo"
    task = await client.post(
        "/api/tasks", json={"title": "t", "due_date": "2026-06-16T09:00:00"}, headers=auth
    )
    assert task.json()["due_date"] == "2026-06-16T00:00:00Z"  # read in Tokyo time, not the cached UTC


async def test_changes_made_elsewhere_show_after_the_cache_period(make_container: ContainerFactory) -> None:
    from sqlalchemy import update

    from todo.apps import create_api_app
    from todo.auth.models import User

    container = await make_container(user_cache_seconds=0)  # every request reads the row
    app = create_api_app(container, manage_lifecycle=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        body = {"email": "elsewhere@example.com", "password": "password123"}
        token = (await http.post("/api/auth/register", json=body)).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert (await http.get("/api/me", headers=headers)).json()["timezone"] == "UTC"
        async with container.sessions() as session, session.begin():  # as another replica would
            await session.execute(update(User).values(timezone="Europe/Paris"))
        assert (await http.get("/api/me", headers=headers)).json()["timezone"] == "Europe/Paris"


async def test_a_time_zone_is_taken_in_any_case_and_stored_as_iana_spells_it(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    changed = await client.patch("/api/me", json={"timezone": "europe/berlin"}, headers=auth)
    assert (changed.status_code, changed.json()["timezone"]) == (200, "Europe/Berlin")
    unknown = await client.patch("/api/me", json={"timezone": "europe/atlantis"}, headers=auth)
    assert unknown.status_code == 422
    assert unknown.json()["error"]["fields"][0]["field"] == "timezone"
