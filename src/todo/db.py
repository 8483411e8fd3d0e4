"""The relational database: declarative base, portable column types, engine and sessions."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy import BigInteger, DateTime, Integer, MetaData, Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

from todo.config import Settings
from todo.errors import DatabaseUnavailable
from todo.unit_of_work import UnitOfWork

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit sequence.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """An instant stored in UTC; always read back timezone-aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime reached the database; convert to UTC first")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def dialect_of(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def insert_or_merge(dialect: str, model: type[Base]) -> postgresql.Insert | sqlite.Insert:
    """A Core INSERT into `model`'s table with ON CONFLICT clauses, in `dialect` (both of ours have them).
    Core, not ORM: the consumers' set-based writes spent a fifth of their time in the ORM's bulk insert.
    Build it once per dialect (functools.cache) and SQLAlchemy reuses its compiled form too."""
    table: Table = model.__table__  # type: ignore[assignment]
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


def utcnow() -> datetime:
    return datetime.now(UTC)


class OneStatementSession(UnitOfWork):
    """For a request whose whole write is one statement, on an autocommit connection: the statement is its
    own transaction, with no BEGIN and COMMIT round trips around it (decision 66). A second statement, or
    a flush with anything to write, would not be atomic with the first: both are refused."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.statements_run = 0


@event.listens_for(OneStatementSession, "do_orm_execute")
def _one_statement(state: ORMExecuteState) -> None:
    session = state.session
    assert isinstance(session, OneStatementSession)
    session.statements_run += 1
    if session.statements_run > 1:
        raise RuntimeError("a OneStatementSession runs one statement: use a transactional session")


@event.listens_for(OneStatementSession, "before_flush")
def _nothing_to_flush(session: Session, _context: object, _instances: object) -> None:
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("a OneStatementSession writes nothing by flushing: use a transactional session")


def create_engine(settings: Settings) -> AsyncEngine:
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        _serialize_sqlite_writes(engine)
        return engine
    if settings.db_pool_size == 0:
        engine = create_async_engine(url, poolclass=NullPool)
        _connect_within(engine, settings.db_connect_timeout_seconds)
        return engine
    engine = create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
    )
    _ping_when_idle(engine, settings.db_pool_ping_idle_seconds)
    _connect_within(engine, settings.db_connect_timeout_seconds)
    return engine


# A connection refused (nothing listening: a restart), dropped, timed out, or refused by a server starting up
# or shutting down
_UNREACHABLE = (OSError, TimeoutError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError)


def _connect_within(engine: AsyncEngine, seconds: float) -> None:
    """Opening a connection takes at most `seconds`, and a database that cannot be reached is said as
    DatabaseUnavailable (a 503 with Retry-After), not as whatever the driver raised (a 500)."""

    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect: Dialect, _record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        try:
            return dialect.connect(*cargs, **{**cparams, "timeout": seconds})
        except _UNREACHABLE as exc:
            raise DatabaseUnavailable(type(exc).__name__) from exc


def _ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Pessimistic disconnect handling for connections that sat idle: SQLAlchemy's `pool_pre_ping` costs
    asyncpg three round trips (BEGIN, a ping, ROLLBACK) on every checkout, more than a consumer's batch
    itself, while a connection returned a moment ago is almost surely alive. A dead one is still
    caught: SQLAlchemy invalidates the whole pool on the first disconnect it sees."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("returned_at", 0.0) < idle_seconds:
            return
        try:
            dbapi_connection.ping()
        except Exception as exc:
            raise DisconnectionError("a pooled connection failed its ping") from exc  # the pool retries


def _serialize_sqlite_writes(engine: AsyncEngine) -> None:
    """WAL plus BEGIN IMMEDIATE: concurrent writers queue on the lock instead of failing mid-transaction."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let us emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
            return  # a read-only session: each statement reads its own snapshot and takes no lock
        conn.exec_driver_sql("BEGIN IMMEDIATE")
