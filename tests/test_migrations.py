"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, Table, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import postgres_url_or_fail
from todo.migrate import downgrade, upgrade
from todo.models import Base, Project, ProjectMember, RecurringTask, Task


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def scratch_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of its own, so that downgrades disturb no other test."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'scratch.db'}"
        return
    base = postgres_url_or_fail()
    name = f"scratch_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        await admin.dispose()


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_migrations_match_models_and_downgrade_cleanly(scratch_url: str) -> None:
    import asyncio

    await asyncio.to_thread(upgrade, scratch_url)
    engine = create_async_engine(scratch_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_differences) == []
            assert await conn.run_sync(_tables) >= {t.name for t in Base.metadata.sorted_tables}
        await asyncio.to_thread(downgrade, scratch_url, "base")
        async with engine.connect() as conn:
            assert await conn.run_sync(_tables) == {"alembic_version"}
        await asyncio.to_thread(upgrade, scratch_url)  # and up again
        async with engine.connect() as conn:
            assert await conn.run_sync(_differences) == []
    finally:
        await engine.dispose()


async def test_upgrading_to_projects_puts_what_each_user_had_into_their_inbox(scratch_url: str) -> None:
    import asyncio

    await asyncio.to_thread(upgrade, scratch_url, "0009")
    user = uuid.uuid4()
    at = datetime(2026, 7, 1, 9, tzinfo=UTC)
    made = {"created_at": at, "updated_at": at}
    engine = create_async_engine(scratch_url)
    try:
        user_row = {"id": user, "email": "old@example.com", "password_hash": "-", "display_name": "old",
                    "timezone": "UTC", "reminder_minutes": []}  # fmt: skip
        task_row = {"id": uuid.uuid4(), "user_id": user, "title": "Old", "priority": 2, "completed": False,
                    "notified": False, "version": 1}  # fmt: skip
        series_row = {"id": uuid.uuid4(), "user_id": user, "title": "Old series", "priority": 2, "tags": [],
                      "recurrence_type": "daily", "recurrence_interval": 1, "start_date": at,
                      "timezone": "UTC", "repeat_from": "schedule", "is_active": True,
                      "occurrences_created": 0, "version": 1}  # fmt: skip
        async with engine.begin() as conn:
            for name, row in (("users", user_row), ("tasks", task_row), ("recurring_tasks", series_row)):
                await conn.execute(_table(name).insert(), [row | made])
        await asyncio.to_thread(upgrade, scratch_url)
        async with engine.connect() as conn:
            [inbox] = (
                await conn.execute(select(Project.id, Project.owner_id, Project.name, Project.is_inbox))
            ).all()
            members = (await conn.execute(select(ProjectMember.user_id, ProjectMember.role))).all()
            homes = [
                *(await conn.scalars(select(Task.project_id))),
                *(await conn.scalars(select(RecurringTask.project_id))),
            ]
        assert tuple(inbox) == (user, user, "Inbox", True)
        assert [tuple(m) for m in members] == [(user, "owner")]
        assert homes == [user, user]
    finally:
        await engine.dispose()


def _table(name: str) -> Table:
    """The table as the models describe it, minus the columns added after revision 0009."""
    table = Base.metadata.tables[name]
    columns = [Column(c.name, c.type) for c in table.columns if c.name != "project_id"]
    return Table(name, MetaData(), *columns)
