"""What every StateStore adapter promises; run against the in-process store and through a real sidecar."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest

from todo.state.store import EtagMismatch, StateStore


def fresh_key() -> str:
    return f"contract:{uuid.uuid4().hex}:a/b@c"  # a slash and an @: keys are not path-safe by nature


async def absent_keys_read_as_none(store: StateStore) -> None:
    assert await store.get(fresh_key()) is None


async def a_value_round_trips_with_a_new_etag_per_write(store: StateStore) -> None:
    key = fresh_key()
    await store.save(key, {"hits": [1.5, 2.0], "name": "ä"})
    first = await store.get(key)
    assert first is not None
    assert first.value == {"hits": [1.5, 2.0], "name": "ä"}
    await store.save(key, [3], etag=first.etag)
    second = await store.get(key)
    assert second is not None
    assert second.value == [3]
    assert second.etag != first.etag


async def a_stale_etag_is_refused_and_changes_nothing(store: StateStore) -> None:
    key = fresh_key()
    await store.save(key, "one")
    stale = await store.get(key)
    assert stale is not None
    await store.save(key, "two", etag=stale.etag)
    with pytest.raises(EtagMismatch):
        await store.save(key, "three", etag=stale.etag)
    with pytest.raises(EtagMismatch):
        await store.delete(key, etag=stale.etag)
    kept = await store.get(key)
    assert kept is not None
    assert kept.value == "two"


async def writes_without_an_etag_always_land(store: StateStore) -> None:
    key = fresh_key()
    await store.save(key, 1)
    current = await store.get(key)
    assert current is not None
    await store.save(key, 2, etag=current.etag)
    await store.save(key, 3)  # after a conditional write too
    after = await store.get(key)
    assert after is not None
    assert after.value == 3


async def delete_removes_and_tolerates_absence(store: StateStore) -> None:
    key = fresh_key()
    await store.save(key, "x")
    current = await store.get(key)
    assert current is not None
    await store.delete(key, etag=current.etag)
    assert await store.get(key) is None
    await store.delete(key)


async def concurrent_increments_lose_nothing(store: StateStore) -> None:
    """Twenty writers add one each, retrying on EtagMismatch: the count is exactly 20 (without ETags,
    last-write-wins would drop some)."""
    key = fresh_key()
    await store.save(key, 0)

    async def increment() -> int:
        conflicts = 0
        while True:
            entry = await store.get(key)
            assert entry is not None
            try:
                await store.save(key, entry.value + 1, etag=entry.etag)
                return conflicts
            except EtagMismatch:
                conflicts += 1

    await asyncio.gather(*(increment() for _ in range(20)))
    final = await store.get(key)
    assert final is not None
    assert final.value == 20


CONTRACT: list[Callable[[StateStore], Awaitable[None]]] = [
    absent_keys_read_as_none,
    a_value_round_trips_with_a_new_etag_per_write,
    a_stale_etag_is_refused_and_changes_nothing,
    writes_without_an_etag_always_land,
    delete_removes_and_tolerates_absence,
    concurrent_increments_lose_nothing,
]
