"""The `todo` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.panel import Panel

from todo import __version__
from todo import smoke as smoke_checks
from todo.config import ConfigError, Role, Settings, ensure_jwt_secret
from todo.dapr_local import DEPLOY_DAPR, LocalServers, render_resources
from todo.platform import logging as todo_logging

app = typer.Typer(help="todo: an event-driven task platform.", no_args_is_help=True)
serve = typer.Typer(help="Run one service of the distributed deployment.", no_args_is_help=True)
app.add_typer(serve, name="serve")
dev = typer.Typer(help="For developers working in a checkout of the repository.", no_args_is_help=True)
app.add_typer(dev, name="dev")
console = Console(stderr=True)


def _settings(role: Role) -> Settings:
    try:
        return ensure_jwt_secret(Settings(), role)
    except ConfigError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (safe to run again)."""
    from todo.migrate import upgrade

    settings = Settings()
    if settings.is_sqlite:  # the default database lives in the data dir, which may not exist yet
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    console.print(f"[green]database is up to date[/green] ({_redact(settings.resolved_database_url)})")


@app.command()
def up(
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="API port")] = None,
    web_port: Annotated[int | None, typer.Option(help="Web UI port")] = None,
) -> None:
    """The all-in-one: migrate, then serve the API (with the relay, consumers and clocks) and the web UI in
    one process."""
    from todo import serving
    from todo.apps import create_api_app
    from todo.bootstrap import build_container
    from todo.migrate import upgrade
    from todo.web.app import create_web_app

    settings = _settings(Role.all_in_one)
    chosen = {"host": host, "api_port": port, "web_port": web_port}
    settings = settings.model_copy(update={k: v for k, v in chosen.items() if v})
    todo_logging.configure(settings.log_level, as_json=settings.log_json)
    upgrade(settings.resolved_database_url)
    base, web = f"http://{settings.host}:{settings.api_port}", f"http://{settings.host}:{settings.web_port}"
    console.print(
        Panel.fit(
            f"Web UI   {web}\nAPI      {base}/api\nDocs     {base}/docs\nMetrics  {base}/metrics\n"
            f"Data     {_redact(settings.resolved_database_url)}\n\nStop with Ctrl-C.",
            title=f"todo {__version__} is starting",
        )
    )
    container = build_container(settings)
    web_app = create_web_app(settings)
    serving.serve(
        [
            uvicorn.Config(
                create_api_app(container), host=settings.host, port=settings.api_port, log_config=None
            ),
            uvicorn.Config(web_app, host=settings.host, port=settings.web_port, log_config=None),
        ],
        on_exit=[container.live_feed.close, web_app.state.closing.set],
    )


@serve.command("api")
def serve_api(
    workers: Annotated[int, typer.Option(min=1, help="Worker processes")] = 1,
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
) -> None:
    """The backend service alone (expects a migrated database and TODO_JWT_SECRET)."""
    settings = _settings(Role.api)
    todo_logging.configure(settings.log_level, as_json=settings.log_json)
    uvicorn.run(
        "todo.apps:api_app_from_environment",
        factory=True,
        host=host or settings.host,
        port=port or settings.api_port,
        workers=workers,
        log_config=None,
        timeout_graceful_shutdown=20,
    )


@serve.command("notifications")
def serve_notifications(
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
) -> None:
    """The notifications service: event consumers, the reminder and recurrence clocks, channel delivery.
    Run as many replicas as you like; they share the work without doing anything twice."""
    from todo.apps import create_notifications_app
    from todo.bootstrap import build_container

    settings = _settings(Role.notifications)
    if "app_id" not in settings.model_fields_set:  # the CloudEvent source of what this service writes
        settings = settings.model_copy(update={"app_id": "todo-notifications"})
    todo_logging.configure(settings.log_level, as_json=settings.log_json)
    application = create_notifications_app(build_container(settings, role=Role.notifications))
    _run(
        uvicorn.Config(
            application, host=host or settings.host, port=port or settings.notifications_port, log_config=None
        )
    )


@serve.command("web")
def serve_web(
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
) -> None:
    """The web UI alone, in front of the API at TODO_BACKEND_URL (or, with TODO_TRANSPORT=dapr, the
    `todo-backend` app through the sidecar). Keeps no state of its own: run as many as you like."""
    from todo import serving
    from todo.web.app import create_web_app

    settings = Settings()
    todo_logging.configure(settings.log_level, as_json=settings.log_json)
    web_app = create_web_app(settings)
    config = uvicorn.Config(
        web_app, host=host or settings.host, port=port or settings.web_port, log_config=None
    )
    serving.serve([config], on_exit=[web_app.state.closing.set])


@dev.command("stack")
def dev_stack(
    api_port: Annotated[int, typer.Option(help="The API's port")] = 8000,
    notifications_port: Annotated[int, typer.Option(help="The notifications service's port")] = 8001,
    web_port: Annotated[int, typer.Option(help="The web UI's port")] = 3000,
) -> None:
    """The distributed topology on this machine: PostgreSQL, Redis and Kafka (scripts/devstack), then the
    API, the notifications service and the web UI, each a process with its own daprd sidecar: events go
    through Kafka, the web UI reaches the API by service invocation."""
    from todo import devstack_runner

    settings = _settings(Role.all_in_one)  # a generated secret in the data dir, as for `todo up`
    todo_logging.configure(settings.log_level, as_json=settings.log_json)
    try:
        devstack_runner.run(
            settings,
            api_port=api_port,
            notifications_port=notifications_port,
            web_port=web_port,
            console=console,
        )
    except devstack_runner.NotACheckout as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc


@app.command()
def smoke(
    url: Annotated[str, typer.Argument(help="The API's base URL, e.g. http://127.0.0.1:8000")],
    email: Annotated[str, typer.Option(help="The smoke-test account")] = smoke_checks.DEFAULT_EMAIL,
    password: Annotated[
        str, typer.Option(envvar="TODO_SMOKE_PASSWORD", help="Its password (env TODO_SMOKE_PASSWORD)")
    ] = "",
) -> None:
    """Check a running API end to end (health, database, sign-in, create/read/delete a task); exit 1 on
    the first failure. The deploy pipeline runs it after `helm upgrade` and rolls back when it fails."""
    import asyncio

    import httpx
    from rich.table import Table

    if len(password) < 8:
        console.print(
            "[red]error:[/red] give the smoke account's password (8+ characters) in TODO_SMOKE_PASSWORD"
        )
        raise typer.Exit(2)

    async def checks() -> list[smoke_checks.Check]:
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            return await smoke_checks.run(http, email, password)

    results = asyncio.run(checks())
    table = Table("check", "result", "detail", title=f"smoke test of {url}")
    for check in results:
        table.add_row(check.name, "[green]ok[/green]" if check.ok else "[red]FAILED[/red]", check.detail)
    console.print(table)
    if not all(check.ok for check in results):
        raise typer.Exit(1)


@dev.command("dapr-resources")
def dev_dapr_resources(
    out: Annotated[Path, typer.Argument(help="Directory to write the resources into")],
    kafka: Annotated[str, typer.Option(help="Kafka / Redpanda bootstrap address, host:port")],
    redis: Annotated[str, typer.Option(help="Redis address, host:port")],
    source: Annotated[Path, typer.Option(help="The cluster's Dapr files")] = DEPLOY_DAPR,
) -> None:
    """Write deploy/dapr's resources for sidecars outside the cluster (compose.yaml, your own daprd): the
    same files with these broker and Redis addresses, no TLS to Redis, no secret references."""
    if not source.is_dir():
        console.print(f"[red]error:[/red] {source} is not a directory of Dapr resources (give --source)")
        raise typer.Exit(2)
    render_resources(out, LocalServers(kafka=kafka, redis=redis), source=source)
    console.print(f"Dapr resources for {kafka} and {redis} written to {out}")


def _run(config: uvicorn.Config) -> None:
    from todo import serving

    serving.serve([config])


def _redact(url: str) -> str:
    """Hide the password in a database URL."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
