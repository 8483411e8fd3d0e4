"""One JSON shape for every error: {"error": {status, code, message, fields}, "request_id"}."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

from todo.errors import (
    DatabaseUnavailable,
    DomainError,
    FieldProblem,
    InvalidInput,
    RateLimited,
    Unauthorized,
)
from todo.platform.logging import request_id

log = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


def error_response(
    status: int,
    message: str,
    *,
    code: str | None = None,
    fields: Sequence[FieldProblem] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {
        "error": {
            "status": status,
            "code": code or _CODES.get(status, "error"),
            "message": message,
            "fields": [{"field": f.field, "reason": f.reason} for f in fields],
        },
        "request_id": request_id.get(),
    }
    return JSONResponse(body, status_code=status, headers=headers)


def domain_error_response(exc: DomainError) -> JSONResponse:
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited | DatabaseUnavailable):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    fields = exc.problems if isinstance(exc, InvalidInput) else ()
    return error_response(exc.status, exc.message, code=exc.code, fields=fields, headers=headers or None)


def field_name(loc: Sequence[Any]) -> str:
    """('body', 'title') -> 'title'; ('query', 'page') -> 'query.page'; list indexes kept: 'tags.3'."""
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return domain_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [FieldProblem(field_name(e.get("loc", ())), _reason(e)) for e in exc.errors()]
        summary = "; ".join(f"{f.field}: {f.reason}" for f in fields[:5])
        return error_response(422, f"invalid request: {summary}", fields=fields)

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        if isinstance(exc.__cause__, DomainError):  # e.g. the body limit, hit while FastAPI reads the body
            return domain_error_response(exc.__cause__)
        return error_response(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(PoolTimeout)
    async def _pool_exhausted(_: Request, exc: PoolTimeout) -> JSONResponse:
        log.warning("no database connection came free in time: %s", exc)
        message = "the database is busy: retry shortly"
        return error_response(503, message, code="database_busy", headers={"Retry-After": "1"})

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:  # the connection died under a statement: the server went away
            log.warning("the database connection was lost: %s", exc.orig)
            return domain_error_response(DatabaseUnavailable("the connection was lost"))
        return await _unexpected(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error_response(500, "internal error; the request id identifies it in the logs")


def _reason(error: Any) -> str:
    return str(error.get("msg", "invalid")).removeprefix("Value error, ")
