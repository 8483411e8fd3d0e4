"""The backend's HTTP API as the web UI sees it.

In the cluster the calls go through the web pod's sidecar with Dapr service invocation (the sidecar
finds `todo-backend`, with mTLS and the resiliency policy); elsewhere straight to `TODO_BACKEND_URL`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from todo.config import Settings, Transport

BACKEND_APP_ID = "todo-backend"


class BackendError(Exception):
    """The API answered with an error; `fields` holds its per-field reasons (422)."""

    def __init__(self, status: int, message: str, fields: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.fields = fields or []


class BackendUnavailable(Exception):
    """The API could not be reached."""


class Backend:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self._http = client

    @classmethod
    def from_settings(cls, settings: Settings) -> Backend:
        if settings.backend_url:
            base, headers = settings.backend_url, {}
        elif settings.transport is Transport.dapr:
            # Dapr's HTTP proxy: the sidecar forwards any path to the app named in `dapr-app-id`.
            base = f"http://127.0.0.1:{settings.dapr_http_port}"
            headers = {"dapr-app-id": BACKEND_APP_ID, **settings.dapr_headers}
        else:
            base, headers = f"http://127.0.0.1:{settings.api_port}", {}
        return cls(httpx.AsyncClient(base_url=base, headers=headers, timeout=10.0))

    async def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        params: dict[str, Any] | None = None,
        client: str | None = None,
    ) -> Any:
        """The answer's JSON (None for 204); BackendError for an error answer. `client`: the browser's
        address, passed on so that the API's per-address login limit counts browsers, not this server
        (uvicorn believes X-Forwarded-For from loopback, where this server or its sidecar connects)."""
        headers = _auth(token) | ({"X-Forwarded-For": client} if client else {})
        try:
            response = await self._http.request(method, path, json=json, params=params, headers=headers)
        except httpx.HTTPError as exc:
            raise BackendUnavailable(str(exc)) from exc
        if response.status_code >= 400:
            raise _error(response)
        return None if response.status_code == 204 else response.json()

    async def document(self, path: str) -> tuple[bytes, str]:
        """A document the API serves without a sign-in (the calendar feed): its bytes and content type;
        BackendError for an error answer."""
        try:
            response = await self._http.get(path)
        except httpx.HTTPError as exc:
            raise BackendUnavailable(str(exc)) from exc
        if response.status_code >= 400:
            raise _error(response)
        return response.content, response.headers.get("content-type", "application/octet-stream")

    @asynccontextmanager
    async def stream(
        self, path: str, *, token: str, last_event_id: str | None = None
    ) -> AsyncIterator[httpx.Response]:
        """An open streaming response (Server-Sent Events); BackendError if the API refuses it.
        `last_event_id`: the reconnecting browser's, so that the stream resumes where it broke."""
        resume = {"Last-Event-ID": last_event_id} if last_event_id else {}
        request = self._http.build_request("GET", path, headers=_auth(token) | resume, timeout=None)
        try:
            response = await self._http.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise BackendUnavailable(str(exc)) from exc
        try:
            if response.status_code >= 400:
                await response.aread()
                raise _error(response)
            yield response
        finally:
            await response.aclose()

    async def close(self) -> None:
        await self._http.aclose()


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _error(response: httpx.Response) -> BackendError:
    try:
        error = response.json()["error"]
        return BackendError(response.status_code, error["message"], error.get("fields"))
    except (ValueError, KeyError, TypeError):
        return BackendError(response.status_code, f"the API answered {response.status_code}")
