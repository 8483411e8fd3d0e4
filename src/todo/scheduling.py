"""The loop shared by the background workers (the relay and the clocks): do what is due, then sleep until
the next due time or a wake-up; back off after a failure.

There is no fixed poll on the hot path: a clock sleeps exactly until its next due time, and a commit
that changes the schedule wakes it (`wake`). `max_sleep_seconds` is only a safety net for a lost
wake-up, e.g. while the PostgreSQL listener reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from todo.clock import Clock
from todo.platform.metrics import CLOCK_LOOP_SECONDS

log = logging.getLogger(__name__)

Tick = Callable[[], Awaitable[bool]]  # does the due work; True when more is due at once (a full batch)
NextDue = Callable[[], Awaitable[datetime | None]]  # None: nothing scheduled, sleep `max_sleep_seconds`
OnError = Callable[[Exception], Awaitable[None]]


class TimedLoop:
    def __init__(
        self,
        name: str,
        *,
        tick: Tick,
        next_due: NextDue,
        clock: Clock,
        max_sleep_seconds: float = 30.0,
        max_backoff_seconds: float = 30.0,
        min_interval_seconds: float = 0.05,
        on_error: OnError | None = None,
    ) -> None:
        self.name = name
        self.tick = tick
        self.next_due = next_due
        self.clock = clock
        self.max_sleep_seconds = max_sleep_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.min_interval_seconds = min_interval_seconds
        self.on_error = on_error
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._sleeping_until: datetime | None = None  # while sleeping until the next due time

    def wake(self, payload: str = "") -> None:
        """Do a round now. A payload naming when the new work is due (ISO 8601) wakes the loop only if
        that is before the round it sleeps until: most changes add work due later, and a round costs
        two transactions."""
        sleeping_until, due = self._sleeping_until, _moment(payload)
        if sleeping_until is not None and due is not None and due >= sleeping_until:
            return
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    async def run(self) -> None:
        backoff = 0.0
        while not self._stop.is_set():
            self._wake.clear()  # before reading: a change committed meanwhile wakes the next round
            started = time.perf_counter()
            try:
                more = await self.tick()
                next_at = None if more else await self.next_due()
            except Exception as exc:
                CLOCK_LOOP_SECONDS.labels(clock=self.name).observe(time.perf_counter() - started)
                backoff = min(max(backoff * 2, 0.25), self.max_backoff_seconds)
                log.warning(
                    "%s step failed; backing off",
                    self.name,
                    exc_info=True,
                    extra={"loop": self.name, "error": str(exc), "backoff": backoff},
                )
                if self.on_error is not None:
                    await self.on_error(exc)
                await self._sleep(backoff, wakeable=False)  # a failing step is not retried on every commit
                continue
            CLOCK_LOOP_SECONDS.labels(clock=self.name).observe(time.perf_counter() - started)
            backoff = 0.0
            if not more:
                delay = self._delay_until(next_at)
                self._sleeping_until = self.clock.now() + timedelta(seconds=delay)
                try:
                    await self._sleep(delay)
                finally:
                    self._sleeping_until = None

    def _delay_until(self, moment: datetime | None) -> float:
        """Until `moment`, but at least `min_interval_seconds`: work due a few milliseconds apart is done
        in one step instead of one transaction each (what keeps a busy SQLite from queueing up)."""
        if moment is None:
            return self.max_sleep_seconds
        delay = (moment - self.clock.now()).total_seconds()
        return min(max(delay, self.min_interval_seconds), self.max_sleep_seconds)

    async def _sleep(self, seconds: float, *, wakeable: bool = True) -> None:
        """Until woken (a commit), stopped, or `seconds` pass; backoff sleeps only end early on stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for((self._wake if wakeable else self._stop).wait(), timeout=seconds)


def _moment(payload: str) -> datetime | None:
    """The aware time a wake-up's payload names, if it names one."""
    try:
        moment = datetime.fromisoformat(payload)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
