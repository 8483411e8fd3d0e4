"""Builds the ASGI apps of the backend API and the notifications service (the web UI's is web/app.py)."""

from __future__ import annotations

import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from types import FrameType
from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from todo import __version__
from todo.analytics.routes import router as stats_router
from todo.auth.routes import router as auth_router
from todo.bootstrap import Container, build_container
from todo.calendar.routes import router as calendar_router
from todo.config import Role, Settings, Transport, ensure_jwt_secret
from todo.dav import routes as dav
from todo.events.dapr import DaprDeliveries
from todo.notifications.api.routes import channels_router, reminders_router
from todo.notifications.api.routes import router as notifications_router
from todo.platform import http_errors
from todo.platform import logging as todo_logging
from todo.platform.health import router as health_router
from todo.platform.heap import tune_garbage_collector
from todo.platform.metrics import FASTAPI_TELEMETRY
from todo.platform.middleware import RequestContextMiddleware
from todo.projects.routes import router as projects_router
from todo.quickadd.routes import router as quick_add_router
from todo.recurrence.routes import router as recurrence_router
from todo.tasks.routes import router as tasks_router
from todo.webhooks.routes import router as webhooks_router

DESCRIPTION = """
Tasks with priorities, due dates and reminders; recurring tasks that create their own occurrences;
every change published as a CloudEvent through a transactional outbox.

Sign up with `POST /api/auth/register`, then use **Authorize** (email as username) to try the rest.
"""


def create_api_app(container: Container, *, manage_lifecycle: bool = True) -> FastAPI:
    """The backend. With `manage_lifecycle` the app starts and stops the container's workers itself."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if manage_lifecycle:
            await container.start()
            _end_streams_on_exit_signal(container)
        tune_garbage_collector()
        try:
            yield
        finally:
            if manage_lifecycle:
                await container.stop()

    # FastAPIOffline serves /docs and /redoc from the installed package's assets rather than a CDN: an
    # offline or air-gapped install has its docs too.
    app = FastAPIOffline(title="todo", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                         telemetry=FASTAPI_TELEMETRY)  # fmt: skip
    app.state.container = container
    app.add_middleware(RequestContextMiddleware, max_body_bytes=container.settings.max_body_bytes)
    http_errors.install(app)
    app.add_exception_handler(dav.NotSignedIn, dav.not_signed_in)
    routers = (
        auth_router,
        projects_router,
        tasks_router,
        recurrence_router,
        quick_add_router,
        calendar_router,
        dav.router,
        webhooks_router,
        stats_router,
        notifications_router,
        channels_router,
        reminders_router,
        health_router,
    )
    for router in routers:
        app.include_router(router)
    return app


def _end_streams_on_exit_signal(container: Container) -> None:
    """uvicorn waits for open responses before it shuts down, and a live stream never finishes by itself:
    on SIGINT / SIGTERM, close the streams first, then let uvicorn's own handler proceed."""
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers belong to the main thread; elsewhere nobody sends us signals
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(sig)
        if callable(previous):
            signal.signal(sig, partial(_close_then, container.live_feed.close, previous))


def _close_then(close: Callable[[], None], previous: Callable[[int, FrameType | None], Any], sig: int,
                frame: FrameType | None) -> None:  # fmt: skip
    close()
    previous(sig, frame)


def create_notifications_app(container: Container) -> FastAPI:
    """The notifications service: consumers and clocks run in its lifespan; HTTP is for probes and
    metrics (and, with the Dapr transport, for event deliveries)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await container.start()
        tune_garbage_collector()
        try:
            yield
        finally:
            await container.stop()

    app = FastAPI(title="todo notifications", version=__version__, lifespan=lifespan, docs_url=None,
                  telemetry=FASTAPI_TELEMETRY)  # fmt: skip
    app.state.container = container
    app.add_middleware(RequestContextMiddleware, max_body_bytes=container.settings.max_body_bytes)
    http_errors.install(app)
    app.add_exception_handler(dav.NotSignedIn, dav.not_signed_in)
    app.include_router(health_router)
    if container.settings.transport is Transport.dapr:  # outermost but for Starlette's error handler
        # PostgreSQL's autocommit sessions: a delivery its consumers can apply in one statement runs as one
        one_statement = (
            container.one_statement_sessions if container.engine.dialect.name == "postgresql" else None
        )
        app.add_middleware(DaprDeliveries, registry=container.consumers, sessions=container.sessions,
                           one_statement=one_statement,
                           max_body_bytes=container.settings.max_body_bytes)  # fmt: skip
    return app


def api_app_from_environment() -> FastAPI:
    """The factory `todo serve api` hands to uvicorn (one call per worker process)."""
    settings = ensure_jwt_secret(Settings(), Role.api)
    todo_logging.configure(settings.log_level, as_json=settings.log_json)
    return create_api_app(build_container(settings, role=Role.api))
