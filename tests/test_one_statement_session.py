"""A task's creation on PostgreSQL runs in autocommit, its one statement its own transaction; the session
it runs in refuses anything that would make the write two statements (see todo.db.OneStatementSession)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from tests.conftest import ContainerFactory
from todo.tasks.models import Task

pytestmark = pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


async def test_a_second_statement_is_refused_and_the_first_stands_alone(
    make_container: ContainerFactory,
) -> None:
    container = await make_container(start=False)
    async with container.one_statement_sessions() as session:
        assert await session.scalar(text("SELECT 1")) == 1
        with pytest.raises(RuntimeError, match="runs one statement"):
            await session.scalar(select(func.count()).select_from(Task))


async def test_a_flush_with_something_to_write_is_refused(make_container: ContainerFactory) -> None:
    container = await make_container(start=False)
    async with container.one_statement_sessions() as session:
        session.add(Task(title="written by a flush"))
        with pytest.raises(RuntimeError, match="writes nothing by flushing"):
            await session.flush()
    async with container.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Task)) == 0


async def test_its_statement_runs_outside_a_transaction(make_container: ContainerFactory) -> None:
    """No BEGIN: the driver reports no transaction open on the connection after the statement ran."""
    container = await make_container(start=False)
    async with container.one_statement_sessions() as session:
        connection = await session.connection()
        raw = (await connection.get_raw_connection()).driver_connection
        await session.execute(text("SELECT 1"))
        assert not raw.is_in_transaction()  # type: ignore[union-attr]
