"""The web UI's ASGI app: pages, static files, security headers, friendly error pages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from todo import __version__
from todo.clock import Clock, SystemClock
from todo.config import Settings
from todo.platform.metrics import FASTAPI_TELEMETRY
from todo.web.backend import Backend, BackendError, BackendUnavailable
from todo.web.pages import NotSignedIn, Page, page
from todo.web.routes import router
from todo.web.session import CsrfFailed, sign_out

# Only our own scripts, styles and connections; no inline script, no framing, forms post only here.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def create_web_app(settings: Settings, backend: Backend | None = None, clock: Clock | None = None) -> FastAPI:
    backend = backend or Backend.from_settings(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            app.state.closing.set()
            await backend.close()

    app = FastAPI(
        title="todo web",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        telemetry=FASTAPI_TELEMETRY,
    )
    app.state.settings = settings
    app.state.backend = backend
    app.state.clock = clock or SystemClock()  # "in 3 hours" and "done today" are relative to it
    app.state.closing = asyncio.Event()  # set on shutdown: live streams end so the server can stop
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.include_router(router)
    app.middleware("http")(_security_headers)
    _install_error_pages(app)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return app


async def _security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    response.headers.update(SECURITY_HEADERS)
    if not request.url.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")  # pages hold personal data
    return response


def _install_error_pages(app: FastAPI) -> None:
    async def not_signed_in(request: Request, _: Exception) -> Response:
        # A page asked for by link (a task in a notification, say) is where signing in leads back to.
        wanted = request.url.path if request.method == "GET" and request.url.path != "/" else ""
        response = RedirectResponse("/login" + (f"?{urlencode({'next': wanted})}" if wanted else ""), 303)
        sign_out(response)
        return response

    async def csrf_failed(request: Request, _: Exception) -> Response:
        message = "This form has expired. Go back, reload the page and try again."
        return page(request, "error.html", Page(title="Form expired", error=message), status=403)

    async def unavailable(request: Request, _: Exception) -> Response:
        message = "The task service is not answering right now. Nothing was lost; try again in a moment."
        return page(request, "error.html", Page(title="Unavailable", error=message), status=503)

    async def backend_error(request: Request, exc: Exception) -> Response:
        status = exc.status if isinstance(exc, BackendError) else 500
        message = "That was not found (or is not yours)." if status == 404 else str(exc)
        return page(request, "error.html", Page(title="Something went wrong", error=message), status=status)

    app.add_exception_handler(NotSignedIn, not_signed_in)
    app.add_exception_handler(CsrfFailed, csrf_failed)
    app.add_exception_handler(BackendUnavailable, unavailable)
    app.add_exception_handler(BackendError, backend_error)
