"""The in-process state store keeps the contract; its TTL on a fake clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tests.state.contract import CONTRACT
from todo.state.store import MemoryStateStore, StateStore


@pytest.mark.parametrize("promise", CONTRACT, ids=lambda p: p.__name__)
async def test_memory_store_keeps_the_contract(promise: Callable[[StateStore], Awaitable[None]]) -> None:
    await promise(MemoryStateStore())


async def test_entries_expire_after_their_ttl() -> None:
    now = [100.0]
    store = MemoryStateStore(monotonic=lambda: now[0])
    await store.save("k", "v", ttl_seconds=60)
    now[0] = 159.9
    assert (await store.get("k")) is not None
    now[0] = 160.0
    assert await store.get("k") is None
