"""`todo dev stack`: the local distributed topology, for a developer to see and poke at.

scripts/devstack brings up PostgreSQL, Redis and Kafka and builds daprd; then the API and the notifications
service start as processes of their own (`todo serve api|notifications`, as in a deployment), each with
its own sidecar on fixed ports, until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
from collections.abc import Coroutine
from pathlib import Path

from rich.console import Console
from rich.panel import Panel

from todo.config import Role, Settings
from todo.dapr_local import LocalServers, ServiceProcess, spawn_service
from todo.migrate import upgrade

DEVSTACK = Path(__file__).resolve().parents[2] / "scripts" / "devstack"


class NotACheckout(RuntimeError):
    """`todo dev stack` needs the repository's scripts."""


def run(
    settings: Settings, *, api_port: int, notifications_port: int, web_port: int, console: Console
) -> None:
    if not DEVSTACK.exists():
        raise NotACheckout(f"{DEVSTACK} not found: run `todo dev stack` from a checkout of the repository")
    subprocess.run([str(DEVSTACK), "up", "postgres", "redis", "kafka", "daprd"], check=True)
    env = dict(
        line.split("=", 1)
        for line in subprocess.run(
            [str(DEVSTACK), "env"], check=True, capture_output=True, text=True
        ).stdout.split()
    )
    settings = settings.model_copy(update={"database_url": env["TODO_DEVSTACK_POSTGRES_URL"]})
    upgrade(settings.resolved_database_url)
    servers = LocalServers(kafka=env["TODO_TEST_KAFKA"], redis=env["TODO_TEST_REDIS"])
    ports = (api_port, notifications_port, web_port)
    asyncio.run(_serve(settings, servers, env["TODO_TEST_DAPRD"], ports, console))


async def _serve(
    settings: Settings,
    servers: LocalServers,
    daprd: str,
    ports: tuple[int, int, int],
    console: Console,
) -> None:
    workdir = settings.data_dir / "dev-stack"
    workdir.mkdir(parents=True, exist_ok=True)

    def start(role: Role, ports: tuple[int, int, int, int]) -> Coroutine[None, None, ServiceProcess]:
        return spawn_service(role, settings, daprd=daprd, servers=servers, workdir=workdir, ports=ports)

    api_port, notifications_port, web_port = ports
    started: list[ServiceProcess] = []
    try:
        for role, own in ((Role.api, (api_port, 3500, 15001, 9090)),
                          (Role.notifications, (notifications_port, 3501, 15002, 9091)),
                          (Role.web, (web_port, 3502, 15003, 9092))):  # fmt: skip
            started.append(await start(role, own))
    except BaseException:
        for service in reversed(started):
            await service.stop()
        raise
    api, notifications, web = started
    console.print(
        Panel.fit(
            f"Web UI              {web.url}   (sidecar todo-frontend: http 3502, metrics 9092; calls the "
            f"API through it)\n"
            f"API                 {api.url}/docs   (sidecar todo-backend: http 3500, metrics 9090)\n"
            f"Notifications       {notifications.url}/healthz   (sidecar todo-notifications: http 3501, "
            f"metrics 9091)\n"
            f"Kafka {servers.kafka}   Redis {servers.redis}   PostgreSQL {settings.resolved_database_url}\n"
            f"Logs                {workdir}  (<app-id>.log, <app-id>.daprd.log)\n\nStop with Ctrl-C.",
            title="todo dev stack: three services, three daprd, one Kafka",
        )
    )
    await _until_interrupted(*started)


async def _until_interrupted(*services: ServiceProcess) -> None:
    """Until Ctrl-C (or SIGTERM), or until a service or sidecar exits by itself; then stop them all."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    children = [c for s in services for c in (s.process, s.sidecar.process)]
    while not stop.is_set() and all(c.poll() is None for c in children):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.5)
    for service in reversed(services):
        with contextlib.suppress(Exception):
            await service.stop()
