"""The state port through the Dapr sidecar's state API (`/v1.0/state/{store}`).

A save with an ETag that no longer matches answers 409, which becomes `EtagMismatch`; a missing key
answers 204. TTLs go as the `ttlInSeconds` metadata, which state.redis turns into an EXPIRE.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx

from todo.state.store import JSON, Entry, EtagMismatch, StateUnavailable


class DaprStateStore:
    def __init__(
        self,
        *,
        http_port: int,
        store: str,
        headers: dict[str, str] | None = None,
        timeout_seconds: float = 5.0,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{http_port}/v1.0/state/{store}",
            headers=headers,
            timeout=timeout_seconds,
        )

    async def get(self, key: str) -> Entry | None:
        response = await self._request("GET", f"/{quote(key, safe='')}")
        if response.status_code == 204:
            return None
        return Entry(response.json(), response.headers.get("etag", ""))

    async def save(
        self, key: str, value: JSON, *, etag: str | None = None, ttl_seconds: int | None = None
    ) -> None:
        item: dict[str, JSON] = {"key": key, "value": value}
        if etag is not None:
            item["etag"] = etag  # no concurrency option: state.redis then checks the ETag but does not
            # mark the key first-write-only, which would refuse later writes made without one
        if ttl_seconds is not None:
            item["metadata"] = {"ttlInSeconds": str(ttl_seconds)}
        await self._request("POST", "", json=[item])

    async def delete(self, key: str, *, etag: str | None = None) -> None:
        headers = {} if etag is None else {"If-Match": etag}
        await self._request("DELETE", f"/{quote(key, safe='')}", headers=headers)

    async def close(self) -> None:
        await self._http.aclose()

    async def _request(self, method: str, path: str, **kwargs: JSON) -> httpx.Response:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise StateUnavailable(f"state store sidecar unreachable: {exc}") from exc
        if response.status_code == 409:
            raise EtagMismatch(response.text[:300])
        if response.status_code >= 400:
            raise StateUnavailable(f"state store answered {response.status_code}: {response.text[:300]}")
        return response
