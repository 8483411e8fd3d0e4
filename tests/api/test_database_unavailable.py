"""A database that cannot be reached (restarting, failed over, silent) is said at once as a 503 naming it,
with Retry-After, never as a 500 or a request that hangs; /readyz names it too."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.conftest import ContainerFactory, api_client
from todo.platform.ports import free_port


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A port that accepts connections and never says a word: a database behind a dropped route."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    for writer in held:
        writer.close()
    server.close()


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
@pytest.mark.parametrize("where", ["nothing listening", "silent"])
async def test_a_database_that_cannot_be_reached_is_a_503_naming_it(
    make_container: ContainerFactory, silent_server: int, where: str
) -> None:
    port = silent_server if where == "silent" else free_port()
    container = await make_container(start=False)  # the test database, emptied first
    unreachable = await make_container(
        start=False,
        database_url=f"postgresql+asyncpg://todo@127.0.0.1:{port}/todo",
        db_connect_timeout_seconds=0.5,
    )
    async with api_client(unreachable) as client:
        answer = await client.post(
            "/api/auth/register", json={"email": "a@example.com", "password": "password123"}
        )
        ready = await client.get("/readyz")
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["code"] == "database_unavailable"
    assert "the database cannot be reached" in answer.json()["error"]["message"]
    assert answer.headers["Retry-After"] == "2"
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "error: DatabaseUnavailable"
    async with api_client(container) as client:  # nothing was written anywhere
        again = await client.post(
            "/api/auth/register", json={"email": "a@example.com", "password": "password123"}
        )
    assert again.status_code == 201, again.text
