"""Sign-ins that end when the user says so: sign out, sign out everywhere, a password change; in every
replica at once (on PostgreSQL, where replicas exist), or within the cache period if a notice is lost."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import jwt
import pytest

from tests.conftest import SECRET, ContainerFactory, eventually
from todo.apps import create_api_app
from todo.bootstrap import Container
from todo.clock import FrozenClock

PASSWORD = "password123"


async def signed_in_twice(client: httpx.AsyncClient, email: str) -> tuple[dict[str, str], dict[str, str]]:
    """Two sign-ins of one account (say a laptop and a phone): their Authorization headers."""
    registered = await client.post("/api/auth/register", json={"email": email, "password": PASSWORD})
    assert registered.status_code == 201, registered.text
    logged_in = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert logged_in.status_code == 200, logged_in.text
    return _bearer(registered.json()["access_token"]), _bearer(logged_in.json()["access_token"])


def _client(container: Container, name: str) -> httpx.AsyncClient:
    """A client of one API process (a replica) over `container`."""
    app = create_api_app(container, manage_lifecycle=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def me(client: httpx.AsyncClient, auth: dict[str, str]) -> tuple[int, str]:
    """The status of `GET /api/me`, and the email it names (or the error's message)."""
    response = await client.get("/api/me", headers=auth)
    body = response.json()
    return response.status_code, body["email"] if response.status_code == 200 else body["error"]["message"]


async def test_logout_revokes_the_token_it_is_called_with_and_no_other(client: httpx.AsyncClient) -> None:
    laptop, phone = await signed_in_twice(client, "leaving@example.com")
    sessions = (await client.get("/api/auth/sessions", headers=laptop)).json()
    assert sorted(s["current"] for s in sessions) == [False, True]  # this one and the phone's
    assert (await client.post("/api/auth/logout", headers=laptop)).status_code == 204
    assert await me(client, laptop) == (401, "signed out: sign in again")
    assert (await client.get("/api/tasks", headers=laptop)).status_code == 401
    assert await me(client, phone) == (200, "leaving@example.com")
    assert [s["current"] for s in (await client.get("/api/auth/sessions", headers=phone)).json()] == [True]
    assert (await client.post("/api/auth/logout", headers=laptop)).status_code == 401  # nothing left to end


async def test_signing_out_everywhere_ends_every_sign_in(client: httpx.AsyncClient) -> None:
    laptop, phone = await signed_in_twice(client, "everywhere@example.com")
    assert (await client.delete("/api/auth/sessions", headers=phone)).status_code == 204
    assert await me(client, laptop) == (401, "signed out: sign in again")
    assert await me(client, phone) == (401, "signed out: sign in again")
    again = await client.post(
        "/api/auth/login", json={"email": "everywhere@example.com", "password": PASSWORD}
    )
    assert await me(client, _bearer(again.json()["access_token"])) == (200, "everywhere@example.com")


async def test_a_password_change_ends_every_other_sign_in(client: httpx.AsyncClient) -> None:
    laptop, phone = await signed_in_twice(client, "careful@example.com")
    guess = {"current_password": "not-it-at-all", "new_password": "a new secret"}
    wrong = await client.post("/api/me/password", headers=laptop, json=guess)
    assert wrong.status_code == 422
    assert wrong.json()["error"]["fields"] == [{"field": "current_password", "reason": "is wrong"}]
    assert await me(client, phone) == (200, "careful@example.com")  # a refused change ends nothing
    change = {"current_password": PASSWORD, "new_password": "a new secret"}
    changed = await client.post("/api/me/password", headers=laptop, json=change)
    assert changed.status_code == 204
    assert await me(client, laptop) == (200, "careful@example.com")  # the one that changed it goes on
    assert await me(client, phone) == (401, "signed out: sign in again")
    old = await client.post("/api/auth/login", json={"email": "careful@example.com", "password": PASSWORD})
    assert old.status_code == 401
    new = await client.post(
        "/api/auth/login", json={"email": "careful@example.com", "password": "a new secret"}
    )
    assert new.status_code == 200


async def test_a_token_without_a_sign_in_is_refused(client: httpx.AsyncClient, clock: FrozenClock) -> None:
    """Tokens from before sign-ins were kept name none, and one naming an unknown sign-in is forged or
    from another database: both are refused."""
    registered = await client.post(
        "/api/auth/register", json={"email": "old@example.com", "password": PASSWORD}
    )
    user_id = registered.json()["user"]["id"]
    expires = int((clock.now() + timedelta(hours=1)).timestamp())
    legacy = jwt.encode({"sub": user_id, "exp": expires}, SECRET, algorithm="HS256")
    unknown = jwt.encode(
        {"sub": user_id, "sid": str(uuid.uuid4()), "exp": expires}, SECRET, algorithm="HS256"
    )
    assert await me(client, _bearer(legacy)) == (401, "invalid token")
    assert await me(client, _bearer(unknown)) == (401, "signed out: sign in again")


async def test_another_replica_notices_a_sign_out_within_the_cache_period(
    make_container: ContainerFactory,
) -> None:
    """Two API processes on one database; with no cache period the second refuses the token at once."""
    first, second = await make_container(), await make_container(start=False, user_cache_seconds=0)
    async with _client(first, "first") as one, _client(second, "second") as two:
        laptop, _ = await signed_in_twice(one, "replicas@example.com")
        assert await me(two, laptop) == (200, "replicas@example.com")
        assert (await one.post("/api/auth/logout", headers=laptop)).status_code == 204
        assert await me(two, laptop) == (401, "signed out: sign in again")


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_every_replica_hears_of_a_sign_out_and_a_profile_change_at_once(
    make_container: ContainerFactory,
) -> None:
    """Two API processes with the default cache period (minutes): the second has both the token and the
    row cached, and still refuses the token and shows the new profile right after the first's commit,
    told by NOTIFY (a bounded wait: the notice crosses PostgreSQL)."""
    first, second = await make_container(), await make_container()
    async with _client(first, "first") as one, _client(second, "second") as two:
        laptop, phone = await signed_in_twice(one, "told@example.com")
        assert await me(two, laptop) == (200, "told@example.com")  # now cached in the second
        assert await me(two, phone) == (200, "told@example.com")

        assert (await one.patch("/api/me", json={"timezone": "Asia/Tokyo"}, headers=phone)).status_code == 200

        async def second_shows_the_new_zone() -> bool:
            return (await two.get("/api/me", headers=phone)).json()["timezone"] == "Asia/Tokyo"

        await eventually(second_shows_the_new_zone)

        assert (await one.post("/api/auth/logout", headers=laptop)).status_code == 204

        async def second_refuses_the_token() -> bool:
            return await me(two, laptop) == (401, "signed out: sign in again")

        await eventually(second_refuses_the_token)
        assert await me(two, phone) == (200, "told@example.com")  # the other sign-in goes on
