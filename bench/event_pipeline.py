"""The event pipeline through Dapr and Kafka: outbox commit -> relay -> daprd -> Kafka -> daprd -> consumers.

Topology, all on this machine: the API service and the notifications service (uvicorn, one process each
in the same Python process here), each with its own daprd sidecar; one Kafka broker (KRaft); PostgreSQL.
Two measurements:
  sustained  N task-created events committed as fast as the database takes them (transactions of 500);
             events/s from the first commit until the notifications service's consumers have all of them;
  latency    events committed at a steady 1,000 per second (10 every 10 ms) for 20 s; for each, the time
             from its commit until the consumer framework handed it to a consumer, p50 / p99 / max.

    make bench-pipeline             # needs scripts/devstack up postgres redis kafka daprd
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import fresh_postgres, write_section
from todo.auth.models import User
from todo.config import Role, Settings
from todo.dapr_local import LocalServers, Service, start_service
from todo.events.consumers import Consumer
from todo.events.envelope import CloudEvent, Topic
from todo.events.models import ProcessedEvent, TaskEvent
from todo.migrate import upgrade
from todo.tasks import service as tasks

console = Console()
SEEN: dict[str, float] = {}  # event id -> when a consumer first got it (wall clock)
COMMITTED: dict[str, float] = {}  # event id -> when its transaction committed


async def _note(event: CloudEvent, _session: AsyncSession) -> None:
    SEEN.setdefault(event.id, time.time())


async def write(service: Service, user: User, count: int) -> list[str]:
    """Commit `count` task creations in one transaction; returns their event ids."""
    async with service.container.sessions() as session, session.begin():
        now = datetime.now(UTC)
        created = [
            await tasks.create(session, user=user, fields={"title": "bench"}, now=now) for _ in range(count)
        ]
        await session.flush()
        ids = await session.scalars(
            select(TaskEvent.id).where(TaskEvent.subject.in_([t.id for t in created]))
        )
        event_ids = [str(i) for i in ids]
    committed = time.time()
    COMMITTED.update(dict.fromkeys(event_ids, committed))
    return event_ids


async def processed(service: Service) -> int:
    async with service.container.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(ProcessedEvent).where(ProcessedEvent.consumer == "analytics")
        )
    return count or 0


async def sustained(api: Service, notifications: Service, user: User, events: int) -> tuple[float, float]:
    base = await processed(notifications)
    started = time.perf_counter()
    for _ in range(events // 500):
        await write(api, user, 500)
    written = time.perf_counter() - started
    with Progress(console=console, transient=True) as progress:
        bar = progress.add_task("consumed", total=events)
        while (done := await processed(notifications) - base) < events:
            progress.update(bar, completed=done)
            await asyncio.sleep(0.05)
    return written, time.perf_counter() - started


async def steady(api: Service, user: User, seconds: int) -> list[float]:
    """10 events every 10 ms; latency of each from commit to consumer."""
    ids: list[str] = []
    tick = time.perf_counter()
    for _ in range(seconds * 100):
        ids += await write(api, user, 10)
        tick += 0.01
        await asyncio.sleep(max(0.0, tick - time.perf_counter()))
    deadline = time.time() + 60
    while any(i not in SEEN for i in ids) and time.time() < deadline:  # noqa: ASYNC110 (polls another service)
        await asyncio.sleep(0.05)
    return sorted(SEEN[i] - COMMITTED[i] for i in ids if i in SEEN)


async def run(
    database_url: str, kafka: str, redis: str, daprd: str, events: int, seconds: int
) -> dict[str, float]:
    await asyncio.to_thread(upgrade, database_url)
    settings = Settings(database_url=database_url, jwt_secret="bench-" + "x" * 40, log_level="WARNING")  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory() as tmp:
        servers = LocalServers(kafka, redis)
        api = await start_service(Role.api, settings, daprd=daprd, servers=servers, workdir=Path(tmp))
        notifications = await start_service(
            Role.notifications, settings, daprd=daprd, servers=servers, workdir=Path(tmp),
            extra_consumers=[Consumer(name="bench-latency", topics=(Topic.task_created,), handle=_note)],
        )  # fmt: skip
        try:
            user = await _user(api)
            await write(api, user, 1)  # warm the path (topics, partitions, consumer group)
            while await processed(notifications) < 1:  # noqa: ASYNC110 (polls another service)
                await asyncio.sleep(0.1)
            written, total = await sustained(api, notifications, user, events)
            latencies = await steady(api, user, seconds)
        finally:
            await notifications.stop()
            await api.stop()
    return {
        "events": events,
        "written_s": written,
        "total_s": total,
        "rate": events / total,
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        "max": latencies[-1],
        "measured": len(latencies),
        "expected": seconds * 1000,
    }


async def _user(service: Service) -> User:
    now = datetime.now(UTC)
    user = User(id=uuid.uuid4(), email=f"{uuid.uuid4().hex}@example.com", password_hash="-", timezone="UTC",
                created_at=now, updated_at=now)  # fmt: skip
    async with service.container.sessions() as session, session.begin():
        session.add(user)
    return user


def main(
    events: Annotated[int, typer.Option(help="Events for the sustained run")] = 20_000,
    seconds: Annotated[int, typer.Option(help="Length of the 1,000 events/s run")] = 20,
    record: Annotated[bool, typer.Option(help="Write docs/benchmarks.md")] = True,
) -> None:
    needed = ["TODO_DEVSTACK_POSTGRES_URL", "TODO_TEST_KAFKA", "TODO_TEST_REDIS", "TODO_TEST_DAPRD"]
    missing = [name for name in needed if not os.environ.get(name)]
    if missing:
        raise typer.BadParameter(f"{', '.join(missing)} not set: run through `make bench-pipeline`")
    url = asyncio.run(fresh_postgres(os.environ["TODO_DEVSTACK_POSTGRES_URL"], "todo_bench_pipeline"))
    r = asyncio.run(run(url, os.environ["TODO_TEST_KAFKA"], os.environ["TODO_TEST_REDIS"],
                        os.environ["TODO_TEST_DAPRD"], events, seconds))  # fmt: skip
    lines = _report(r, events, seconds)
    console.print("\n".join(lines))
    if record:
        write_section("event-pipeline", "\n".join(lines))
        console.print("[green]recorded in docs/benchmarks.md[/green]")


def _report(r: dict[str, float], events: int, seconds: int) -> Sequence[str]:
    return [
        "## Event pipeline through Dapr and Kafka (`bench/event_pipeline.py`)",
        "",
        f"Command: `make bench-pipeline` (= `bench/event_pipeline.py --events {events} "
        f"--seconds {seconds}`). "
        "The API service and the notifications service, each with its own daprd 1.16 sidecar, one Kafka 4.1 "
        "broker (KRaft, 3 partitions per topic), PostgreSQL 15, all on this machine. The relay publishes "
        "through the sidecar's bulk API; the notifications service receives bulk deliveries (up to 500) "
        "and runs its consumers (analytics, reminder schedule) on them, side by side. Both services run in "
        "this benchmark's one Python process (one event loop, so at most one core for both, beside Kafka, "
        "two sidecars and PostgreSQL on the other); in a deployment each is a process of its own.",
        "",
        f"Targets: at least 10,000 events/s sustained ({_verdict(r['rate'] >= 10_000)}); p99 under 50 ms at "
        f"1,000 events/s ({_verdict(r['p99'] < 0.05)}).",
        "",
        "| measurement | result |",
        "|---|---|",
        f"| sustained: {events:,} events committed in transactions of 500 "
        f"| written in {r['written_s']:.1f} s; "
        f"all consumed after {r['total_s']:.1f} s: **{r['rate']:,.0f} events/s** outbox to consumer |",
        f"| latency at 1,000 events/s for {seconds} s (commit to consumer) | p50 {r['p50'] * 1000:.0f} ms, "
        f"**p99 {r['p99'] * 1000:.0f} ms**, max {r['max'] * 1000:.0f} ms "
        f"({int(r['measured']):,} of {int(r['expected']):,} events seen) |",
    ]


def _verdict(met: bool) -> str:
    return "met" if met else "**not met**"


if __name__ == "__main__":
    typer.run(main)
