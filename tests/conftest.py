"""Shared fixtures: API and event tests run on SQLite and on the real PostgreSQL of scripts/devstack."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from todo.apps import create_api_app
from todo.bootstrap import Container, build_container
from todo.clock import FrozenClock
from todo.config import Settings
from todo.events.envelope import EventKind
from todo.events.transport import Publisher
from todo.migrate import upgrade
from todo.models import Base
from todo.tasks import service as tasks
from todo.tasks.models import Task

pytest_plugins = ["tests.browser"]  # the `chromium` fixture, for the web UI and the cluster
PG_ENV = "TODO_TEST_POSTGRES_URL"
START = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
SECRET = "test-secret-" + "x" * 40


def postgres_url_or_fail() -> str:
    """The devstack PostgreSQL; in CI its absence fails the run instead of skipping."""
    url = os.environ.get(PG_ENV)
    if url:
        return url
    if os.environ.get("CI"):
        pytest.fail(f"{PG_ENV} is not set: CI must run the PostgreSQL tests (use `make test`)")
    pytest.skip(f"{PG_ENV} not set; start PostgreSQL with `scripts/devstack up` or use `make test`")


def devstack_tool(env: str, what: str, part: str) -> str:
    """The path in `env` of a program scripts/devstack provides; in CI its absence fails the run."""
    path = os.environ.get(env)
    if path and Path(path).exists():
        return path
    message = f"{what} not available: run `make test` (scripts/devstack up {part})"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("db") / "test.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = postgres_url_or_fail()
    asyncio.run(_reset_schema(url))
    upgrade(url)
    return url


async def _reset_schema(url: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


async def truncate_all(container: Container) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with container.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
        else:
            for table in tables:
                await conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path,
        jwt_secret=SECRET,  # type: ignore[arg-type]
        relay_poll_seconds=0.05,
        relay_max_backoff_seconds=0.5,  # recoveries show within a test's patience
        jwt_expire_minutes=60 * 24 * 400,  # tests move the clock by days and months
        log_json=False,
    )


ContainerFactory = Callable[..., Awaitable[Container]]


@pytest.fixture
async def make_container(settings: Settings, clock: FrozenClock) -> AsyncIterator[ContainerFactory]:
    """Builds containers on the test database (truncated first); stops them all at the end."""
    built: list[Container] = []

    async def make(
        *, publisher: Publisher | None = None, start: bool = True, clocks: bool = False, **overrides: Any
    ) -> Container:
        """`start`: run the relay (and the listener); `clocks`: the clocks too. With the clock frozen they
        only race the test, so by default the test drives them (`settle`)."""
        container = build_container(settings.model_copy(update=overrides), clock=clock, publisher=publisher)
        if not built:
            await truncate_all(container)
        built.append(container)
        if start:
            await container.start(clocks=clocks)
        return container

    yield make
    for container in built:
        await container.stop()


@pytest.fixture
async def container(make_container: ContainerFactory) -> Container:
    return await make_container()


@pytest.fixture
async def client(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    app = create_api_app(container, manage_lifecycle=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


Register = Callable[..., Awaitable[dict[str, str]]]


@pytest.fixture
def register(client: httpx.AsyncClient) -> Register:
    """Registers a user and returns the Authorization header for them."""
    counter = iter(range(1_000_000))

    async def make(
        email: str | None = None, timezone: str = "UTC", password: str = "password123"
    ) -> dict[str, str]:
        email = email or f"user{next(counter)}@example.com"
        response = await client.post(
            "/api/auth/register", json={"email": email, "password": password, "timezone": timezone}
        )
        assert response.status_code == 201, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return make


@pytest.fixture
async def auth(register: Register) -> dict[str, str]:
    return await register()


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 20.0) -> None:
    """Wait until `check` holds; fail with a clear message if it never does. `within` bounds a hang; it
    is not a latency claim (those live in bench/)."""
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.02)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say plainly whether the PostgreSQL, Dapr/Kafka, browser and Kubernetes parts of the suite ran (CI
    must show they did)."""
    parts = {
        "postgres": f"PostgreSQL tests ({os.environ.get(PG_ENV, 'not configured')})",
        "dapr": f"Dapr + Kafka tests (daprd {os.environ.get('TODO_TEST_DAPRD', 'not configured')}, "
        f"Kafka {os.environ.get('TODO_TEST_KAFKA', 'not configured')})",
        "browser": f"Browser tests (Chromium {os.environ.get('TODO_TEST_CHROMIUM', 'not configured')})",
        "cluster": f"Kubernetes tests (API {os.environ.get('TODO_CLUSTER_API_URL', 'not configured')}, "
        f"web UI {os.environ.get('TODO_CLUSTER_WEB_URL', 'not configured')})",
    }
    for marker, label in parts.items():
        counts = {
            outcome: sum(
                1
                for r in terminalreporter.stats.get(outcome, [])
                if getattr(r, "when", "call") in ("call", "setup") and marker in r.keywords
            )
            for outcome in ("passed", "failed", "skipped")
        }
        terminalreporter.write_line(
            f"{label}: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped"
        )


async def settle(container: Container) -> None:
    """Do everything due at the (frozen) clock's time: run the clocks, publish every event and let the
    consumers handle it. Three rounds: an event may plan a reminder that is due at once, whose event
    queues a delivery."""
    from todo.events.models import TaskEvent

    async def drained() -> bool:
        async with container.sessions() as session:
            backlog = await session.scalar(
                select(func.count()).select_from(TaskEvent).where(TaskEvent.published_at.is_(None))
            )
        return backlog == 0

    for _ in range(3):
        for worker in (container.occurrences, container.reminders, container.deliveries, container.webhooks):
            while await worker.tick():
                pass
        container.relay.wake()
        await eventually(drained)


def api_client(container: Container) -> httpx.AsyncClient:
    """An HTTP client for `container`'s API, for tests that build containers themselves."""
    app = create_api_app(container, manage_lifecycle=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def sign_up(client: httpx.AsyncClient, email: str = "someone@example.com") -> dict[str, str]:
    response = await client.post("/api/auth/register", json={"email": email, "password": "password123"})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def iso_z(moment: datetime) -> str:
    """How the API writes an instant."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def announce(container: Container, kind: EventKind, task_id: object) -> None:
    """Write the event the reminder clock would write, through the outbox and the relay."""
    async with container.sessions() as session, session.begin():
        task = await session.get(Task, uuid.UUID(str(task_id)))
        assert task is not None
        await tasks.emit(session, kind, task, at=container.clock.now())
