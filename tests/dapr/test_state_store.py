"""The state port through a real sidecar to real Redis: the contract, TTLs, and the login limiter shared by
two API replicas."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest

from tests.conftest import eventually
from tests.dapr.conftest import Stack
from tests.state.contract import CONTRACT, fresh_key
from todo.config import Role
from todo.state.dapr import DaprStateStore
from todo.state.store import StateStore

pytestmark = [pytest.mark.postgres, pytest.mark.dapr]


async def _sidecar_store(stack: Stack) -> DaprStateStore:
    api = await stack.start(Role.api)
    settings = api.container.settings
    return DaprStateStore(
        http_port=api.sidecar.http_port, store=settings.dapr_statestore, headers=settings.dapr_headers
    )


async def test_the_dapr_store_keeps_the_contract(stack: Stack) -> None:
    store = await _sidecar_store(stack)
    promise: Callable[[StateStore], Awaitable[None]]
    try:
        for promise in CONTRACT:
            await promise(store)
    finally:
        await store.close()


async def test_entries_expire_in_redis(stack: Stack) -> None:
    store = await _sidecar_store(stack)
    try:
        key = fresh_key()
        await store.save(key, "short-lived", ttl_seconds=1)
        assert (await store.get(key)) is not None
        await eventually(lambda: _absent(store, key), within=10)
    finally:
        await store.close()


async def _absent(store: DaprStateStore, key: str) -> bool:
    return await store.get(key) is None


async def test_two_api_replicas_count_login_failures_together(stack: Stack) -> None:
    first, second = await stack.start(Role.api), await stack.start(Role.api)
    settings = first.container.settings
    store = DaprStateStore(
        http_port=first.sidecar.http_port, store=settings.dapr_statestore, headers=settings.dapr_headers
    )
    await store.delete("login-client:127.0.0.1")  # Redis outlives test runs; this address is every test's
    await store.close()
    credentials = {"email": f"{uuid.uuid4().hex}@example.com", "password": "right-password-1"}
    async with httpx.AsyncClient(timeout=10) as http:
        signed_up = await http.post(f"{first.url}/api/auth/register", json=credentials)
        assert signed_up.status_code == 201, signed_up.text
        wrong = {**credentials, "password": "wrong-guess-1"}
        for attempt in range(10):  # the limit is 10 failures per account, spread over both replicas
            replica = (first, second)[attempt % 2]
            failed = await http.post(f"{replica.url}/api/auth/login", json=wrong)
            assert failed.status_code == 401, failed.text
        for replica in (first, second):
            refused = await http.post(f"{replica.url}/api/auth/login", json=credentials)
            assert refused.status_code == 429, refused.text
            assert refused.json()["error"]["code"] == "rate_limited"
            assert 0 < int(refused.headers["Retry-After"]) <= 900
