"""The distributed topology on one machine: real Kafka (scripts/devstack), a real daprd beside each service,
both services on the devstack PostgreSQL. In CI a missing part fails the run instead of skipping."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import FastAPI

from tests.conftest import eventually, free_port, truncate_all
from todo.apps import create_api_app, create_notifications_app
from todo.bootstrap import Container, build_container
from todo.config import Role, Settings, Transport
from todo.dapr_local import LocalServers, Sidecar, render_resources, sidecar_ready, start_sidecar
from todo.events.envelope import Topic

NEEDS = {"TODO_TEST_KAFKA": "Kafka", "TODO_TEST_REDIS": "Redis", "TODO_TEST_DAPRD": "daprd"}


@dataclass(frozen=True)
class DaprParts:
    kafka: str
    redis: str
    daprd: str


@pytest.fixture(scope="session")
def dapr_parts() -> DaprParts:
    missing = [what for name, what in NEEDS.items() if not os.environ.get(name)]
    if missing or not Path(os.environ["TODO_TEST_DAPRD"]).exists():
        what = ", ".join(missing) or "daprd"
        message = f"{what} not available: run `make test` (scripts/devstack up kafka redis daprd)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    asyncio.run(_delete_topics(os.environ["TODO_TEST_KAFKA"]))  # no events left over from an earlier run
    return DaprParts(
        os.environ["TODO_TEST_KAFKA"], os.environ["TODO_TEST_REDIS"], os.environ["TODO_TEST_DAPRD"]
    )


async def _delete_topics(kafka: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        ours = {t.value for t in Topic} | {"dead-letters"}
        existing = set(await admin.list_topics()) & ours
        if existing:
            await admin.delete_topics(sorted(existing))
    finally:
        await admin.close()


@dataclass
class Service:
    container: Container
    server: uvicorn.Server
    serving: asyncio.Task[None]
    sidecar: Sidecar
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        self.sidecar.process.terminate()
        await asyncio.to_thread(self.sidecar.process.wait, 20)
        self.server.should_exit = True
        await self.serving


@dataclass
class Stack:
    """Starts services with their sidecars; stops them all at the end."""

    parts: DaprParts
    settings: Settings
    workdir: Path
    services: list[Service] = field(default_factory=list)

    async def start(self, role: Role) -> Service:
        app_id = {Role.api: "todo-backend", Role.notifications: "todo-notifications"}[role]
        ports = (free_port(), free_port(), free_port())
        settings = self.settings.model_copy(
            update={"transport": Transport.dapr, "dapr_http_port": ports[0], "app_id": app_id}
        )
        container = build_container(settings, role=role)
        if not self.services:
            await truncate_all(container)
        app: FastAPI = create_api_app(container) if role is Role.api else create_notifications_app(container)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
        serving = asyncio.create_task(server.serve())
        await eventually(lambda: _true(server.started))
        resources = render_resources(self.workdir / "dapr", LocalServers(self.parts.kafka, self.parts.redis))
        log_file = self.workdir / f"{app_id}.daprd.log"
        sidecar = start_sidecar(
            self.parts.daprd,
            app_id=app_id,
            app_port=port,
            ports=ports,
            resources=resources,
            log_file=log_file,
        )
        service = Service(container, server, serving, sidecar, port)
        self.services.append(service)
        await eventually(lambda: asyncio.to_thread(sidecar_ready, sidecar), within=60)
        return service

    async def stop(self) -> None:
        for service in reversed(self.services):
            await service.stop()


StackFactory = Callable[[], Awaitable[Stack]]


@pytest.fixture
async def stack(dapr_parts: DaprParts, postgres_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    settings = Settings(database_url=postgres_url, data_dir=tmp_path, jwt_secret="dapr-test-" + "x" * 40,
                        log_json=False, relay_poll_seconds=0.2,
                        relay_max_backoff_seconds=2.0)  # type: ignore[arg-type]  # fmt: skip
    built = Stack(dapr_parts, settings, tmp_path)
    yield built
    await built.stop()


async def _true(value: bool) -> bool:
    return value
