"""The background loop's wake-ups: a wake naming a time the loop already sleeps to (or past) lets it sleep."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from tests.conftest import eventually
from todo.clock import FrozenClock
from todo.scheduling import TimedLoop

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def _holds(condition: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return condition()

    return check


async def test_a_wake_for_work_due_after_the_planned_round_lets_the_loop_sleep() -> None:
    clock = FrozenClock(NOW)
    rounds: list[datetime] = []

    async def tick() -> bool:
        rounds.append(clock.now())
        return False

    async def next_due() -> datetime:
        return clock.now() + timedelta(hours=1)  # beyond the longest sleep: it sleeps 60 s

    loop = TimedLoop("test", tick=tick, next_due=next_due, clock=clock, max_sleep_seconds=60)
    running = asyncio.create_task(loop.run())
    try:
        await eventually(_holds(lambda: len(rounds) == 1 and loop._sleeping_until is not None))
        assert loop._sleeping_until == NOW + timedelta(seconds=60)

        loop.wake((NOW + timedelta(minutes=5)).isoformat())  # due after the planned round: no round now
        assert not loop._wake.is_set()
        assert len(rounds) == 1

        loop.wake((NOW + timedelta(seconds=30)).isoformat())  # due before it: a round now
        await eventually(_holds(lambda: len(rounds) == 2))

        await eventually(_holds(lambda: loop._sleeping_until is not None))
        loop.wake()  # a wake naming no time (another process's commit, a reconnect) always runs a round
        await eventually(_holds(lambda: len(rounds) == 3))
        loop.wake("not a time")
        await eventually(_holds(lambda: len(rounds) == 4))
    finally:
        loop.stop()
        await asyncio.wait_for(running, timeout=10)
