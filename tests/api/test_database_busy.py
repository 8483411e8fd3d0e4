"""A request that finds every pooled connection in use waits a bounded time, then is told to retry (503),
and nothing it carried is half-written (decision 67)."""

from __future__ import annotations

import pytest

from tests.conftest import ContainerFactory, api_client, sign_up


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_a_request_that_finds_the_pool_in_use_is_answered_503_and_writes_nothing(
    make_container: ContainerFactory,
) -> None:
    container = await make_container(start=False, db_pool_size=1, db_pool_timeout_seconds=0.2)
    async with api_client(container) as client:
        auth = await sign_up(client)  # the sign-in is cached from here on: no connection to read it
        async with container.engine.connect():  # the pool's only connection, held elsewhere
            busy = await client.post("/api/tasks", json={"title": "while busy"}, headers=auth)
        assert busy.status_code == 503, busy.text
        assert busy.headers["Retry-After"] == "1"
        assert busy.json()["error"]["code"] == "database_busy"
        assert (await client.get("/api/tasks", headers=auth)).json()["items"] == []
        created = await client.post("/api/tasks", json={"title": "once free"}, headers=auth)
        assert created.status_code == 201, created.text
        titles = [task["title"] for task in (await client.get("/api/tasks", headers=auth)).json()["items"]]
        assert titles == ["once free"]
