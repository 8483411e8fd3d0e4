"""Running the services with Dapr sidecars on one machine, with the same resource files as the cluster.

`deploy/dapr/*.yaml` describe the cluster (Redpanda brokers, managed Redis with TLS). A local run copies
them into a directory of its own with only the connection settings changed, then starts each service
(uvicorn, in this process) with a `daprd` beside it. Used by the tests and the benchmarks.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import yaml
from fastapi import FastAPI
from pydantic import SecretStr

from todo.apps import create_api_app, create_notifications_app
from todo.bootstrap import Container, build_container
from todo.config import Role, Settings, Transport
from todo.events.consumers import Consumer
from todo.platform.ports import free_port

DEPLOY_DAPR = Path(__file__).resolve().parents[2] / "deploy" / "dapr"


@dataclass(frozen=True)
class LocalServers:
    kafka: str  # host:port
    redis: str  # host:port


def render_resources(dest: Path, servers: LocalServers, *, source: Path = DEPLOY_DAPR) -> Path:
    """Copy the cluster's Dapr resources into `dest` with local connection settings; returns `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.yaml")):
        documents = [_localise(doc, servers) for doc in yaml.safe_load_all(path.read_text()) if doc]
        (dest / path.name).write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return dest


def _localise(doc: dict[str, Any], servers: LocalServers) -> dict[str, Any]:
    if doc.get("kind") != "Component":
        return doc
    local = {
        "pubsub.kafka": {"brokers": servers.kafka},
        "state.redis": {"redisHost": servers.redis, "enableTLS": "false"},
    }.get(doc["spec"]["type"], {})
    kept = [m for m in doc["spec"].get("metadata", []) if "secretKeyRef" not in m]  # no secrets locally
    kept = [m for m in kept if m["name"] not in local]
    doc["spec"]["metadata"] = kept + [{"name": name, "value": value} for name, value in local.items()]
    return doc


# The API token every sidecar started here requires, as the chart's sidecars do (`dapr.io/api-token-secret`):
# local runs exercise the same header on every call the apps make to their sidecars.
API_TOKEN = secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Sidecar:
    app_id: str
    http_port: int
    grpc_port: int
    metrics_port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"


def start_sidecar(
    daprd: str,
    *,
    app_id: str,
    app_port: int,
    ports: tuple[int, int, int],
    resources: Path,
    log_file: Path,
) -> Sidecar:
    """Start `daprd` for `app_id` (standalone mode: no placement, scheduler or mTLS)."""
    http_port, grpc_port, metrics_port = ports
    command = [
        daprd,
        "--app-id", app_id,
        "--app-port", str(app_port),
        "--app-protocol", "http",
        "--dapr-http-port", str(http_port),
        "--dapr-grpc-port", str(grpc_port),
        "--metrics-port", str(metrics_port),
        # For 0 daprd picks a port in 47300-49347 it finds free and binds seconds later, inside the
        # kernel's ephemeral range: an outgoing connection took one meanwhile once, so ours comes from
        # our range below it
        "--dapr-internal-grpc-port", str(free_port()),
        "--resources-path", str(resources),
        "--config", str(resources / "configuration.yaml"),
        "--log-level", "warn",
        "--placement-host-address", "",
        "--scheduler-host-address", "",
    ]  # fmt: skip
    # DAPR_HOST_IP: mDNS name resolution needs no default route then
    env = {**os.environ, "DAPR_HOST_IP": "127.0.0.1", "DAPR_API_TOKEN": API_TOKEN}
    with log_file.open("ab") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    return Sidecar(app_id, http_port, grpc_port, metrics_port, process)


def sidecar_ready(sidecar: Sidecar) -> bool:
    """The sidecar is up and has loaded its components and the app's subscriptions."""
    try:
        return httpx.get(f"{sidecar.url}/v1.0/healthz", timeout=1).status_code == 204
    except httpx.HTTPError:
        return False


APP_IDS = {Role.api: "todo-backend", Role.notifications: "todo-notifications", Role.web: "todo-frontend"}


@dataclass
class _BesideSidecar:
    sidecar: Sidecar
    port: int  # the app's

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Service(_BesideSidecar):
    """One service of the distributed deployment, serving in this process, with its own sidecar."""

    container: Container
    server: uvicorn.Server
    serving: asyncio.Task[None]

    async def stop(self) -> None:
        self.sidecar.process.terminate()
        await asyncio.to_thread(self.sidecar.process.wait, 20)
        self.server.should_exit = True
        await self.serving


async def start_service(
    role: Role,
    settings: Settings,
    *,
    daprd: str,
    servers: LocalServers,
    workdir: Path,
    extra_consumers: Sequence[Consumer] = (),
    ports: tuple[int, int, int, int] | None = None,
    ready_within: float = 60,
) -> Service:
    """Serve `role` with `TODO_TRANSPORT=dapr`, start its sidecar, wait until both are up. `ports` are the
    app's and the sidecar's HTTP, gRPC and metrics ports (free ones by default); `extra_consumers` join
    the service's own (a benchmark's probe, say)."""
    ports = ports or _free_ports()
    app_port, http_port = ports[0], ports[1]
    app_id = APP_IDS[role]
    settings = settings.model_copy(
        update={
            "transport": Transport.dapr,
            "dapr_http_port": http_port,
            "app_id": app_id,
            "dapr_api_token": SecretStr(API_TOKEN),
        }
    )
    container = build_container(settings, role=role)
    for consumer in extra_consumers:
        container.consumers.register(consumer)
    app: FastAPI = create_api_app(container) if role is Role.api else create_notifications_app(container)
    server = uvicorn.Server(uvicorn.Config(app, host=settings.host, port=app_port, log_config=None))
    serving = asyncio.create_task(server.serve())
    await _until(lambda: server.started, ready_within, f"{app_id} did not start")
    sidecar = _sidecar_beside(daprd, app_id, ports, servers, workdir)
    service = Service(sidecar, app_port, container, server, serving)
    try:
        await _until(lambda: sidecar_ready(sidecar), ready_within, f"the sidecar of {app_id} did not start")
    except TimeoutError:
        await service.stop()
        raise
    return service


@dataclass
class ServiceProcess(_BesideSidecar):
    """One service as its own process (`todo serve <role>`), as in a deployment, with its own sidecar."""

    role: Role
    process: subprocess.Popen[bytes]

    async def stop(self) -> None:
        for child in (self.sidecar.process, self.process):
            child.terminate()
        for child in (self.sidecar.process, self.process):
            await asyncio.to_thread(child.wait, 30)


async def spawn_service(
    role: Role,
    settings: Settings,
    *,
    daprd: str,
    servers: LocalServers,
    workdir: Path,
    ports: tuple[int, int, int, int] | None = None,
    ready_within: float = 60,
    workers: int = 1,
) -> ServiceProcess:
    """Start `todo serve <role>` with `TODO_TRANSPORT=dapr` and its sidecar; wait until both answer.
    `workers` > 1 serves the API from that many processes behind the one sidecar, as a pod does."""
    ports = ports or _free_ports()
    app_port, http_port = ports[0], ports[1]
    app_id = APP_IDS[role]
    env = {**os.environ, **_service_env(settings), "TODO_TRANSPORT": "dapr", "TODO_APP_ID": app_id,
           "TODO_DAPR_HTTP_PORT": str(http_port), "TODO_DAPR_API_TOKEN": API_TOKEN}  # fmt: skip
    process = _start_app(role, app_port, env, workdir / f"{app_id}.log", workers)
    sidecar = _sidecar_beside(daprd, app_id, ports, servers, workdir)
    service = ServiceProcess(sidecar, app_port, role, process)
    try:
        await _until(lambda: _healthy(service.url), ready_within, f"{app_id} did not start")
        await _until(lambda: sidecar_ready(sidecar), ready_within, f"the sidecar of {app_id} did not start")
    except BaseException:  # a timeout, or Ctrl-C while starting: leave nothing running behind
        await service.stop()
        raise
    return service


def _free_ports() -> tuple[int, int, int, int]:
    return free_port(), free_port(), free_port(), free_port()


def _sidecar_beside(
    daprd: str, app_id: str, ports: tuple[int, int, int, int], servers: LocalServers, workdir: Path
) -> Sidecar:
    """Start the sidecar of the app on `ports[0]`, with the sidecar ports that follow, on local resources.
    Each sidecar gets its own copy: daprd hot-reloads a resource file that is rewritten, and 1.18 then
    registers its metrics twice and answers /metrics with a 500."""
    app_port, *sidecar_ports = ports
    resources = render_resources(workdir / "dapr" / f"{app_id}-{sidecar_ports[0]}", servers)
    return start_sidecar(
        daprd, app_id=app_id, app_port=app_port, ports=(sidecar_ports[0], sidecar_ports[1], sidecar_ports[2]),
        resources=resources, log_file=workdir / f"{app_id}.daprd.log",
    )  # fmt: skip


def _start_app(
    role: Role, port: int, env: dict[str, str], log_file: Path, workers: int
) -> subprocess.Popen[bytes]:
    command = [str(Path(sys.executable).with_name("todo")), "serve", role.value, "--port", str(port)]
    command += ["--workers", str(workers)] if workers > 1 else []
    with log_file.open("ab") as log:
        return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def _service_env(settings: Settings) -> dict[str, str]:
    secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else ""
    return {"TODO_DATABASE_URL": settings.resolved_database_url, "TODO_JWT_SECRET": secret,
            "TODO_DATA_DIR": str(settings.data_dir), "TODO_LOG_LEVEL": settings.log_level}  # fmt: skip


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


async def _until(check: Any, within: float, message: str) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await asyncio.to_thread(check):
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(message)
        await asyncio.sleep(0.05)
