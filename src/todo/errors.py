"""Errors the domain raises; the HTTP layer maps each to one JSON error shape."""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    """Signed in and allowed to see it, but not to do this (a viewer writing to a shared project)."""

    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DatabaseUnavailable(DomainError):
    """The database refused, dropped or did not answer a connection (a restart, a failover): try again."""

    status = 503
    code = "database_unavailable"
    retry_after = 2

    def __init__(self, why: str) -> None:
        super().__init__(f"the database cannot be reached ({why}); retry shortly")


@dataclass(frozen=True)
class FieldProblem:
    field: str
    reason: str


class InvalidInput(DomainError):
    """Input that parsed but makes no sense (an unknown timezone, an impossible rule): a 422."""

    status = 422
    code = "validation_error"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.problems = [FieldProblem(field, reason)]


class PayloadTooLarge(InvalidInput):
    code = "payload_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__("body", f"the request body exceeds {limit} bytes")
