"""The PostgreSQL pool tests connections that sat idle and trusts those in steady use (see todo.db)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from todo.config import Settings
from todo.db import create_engine


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT pg_backend_pid()")) or 0)


async def _terminate(url: str, pid: int) -> None:
    admin = create_async_engine(url)
    async with admin.connect() as conn:
        assert await conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await admin.dispose()


def _engine(url: str, idle_seconds: float) -> AsyncEngine:
    return create_engine(Settings(database_url=url, db_pool_size=1, db_pool_ping_idle_seconds=idle_seconds))


async def test_an_idle_connection_that_died_is_replaced_before_use(postgres_url: str) -> None:
    engine = _engine(postgres_url, idle_seconds=0)  # every checkout counts as idle: always pinged
    try:
        dead = await _backend_pid(engine)
        await _terminate(postgres_url, dead)
        assert await _backend_pid(engine) not in (0, dead)  # no error: the ping found it dead
    finally:
        await engine.dispose()


async def test_a_connection_in_steady_use_is_trusted_and_one_failure_renews_the_pool(
    postgres_url: str,
) -> None:
    engine = _engine(postgres_url, idle_seconds=3600)  # never idle long enough to be pinged
    try:
        dead = await _backend_pid(engine)
        await _terminate(postgres_url, dead)
        with pytest.raises(DBAPIError) as failed:
            await _backend_pid(engine)
        assert failed.value.connection_invalidated
        assert await _backend_pid(engine) not in (0, dead)
    finally:
        await engine.dispose()
