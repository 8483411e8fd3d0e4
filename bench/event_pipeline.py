"""The event pipeline through Dapr and Kafka: outbox commit -> relay -> daprd -> Kafka -> daprd -> consumers.

Topology, all on this machine, as in a deployment: the API service and the notifications service, each
its own process (`todo serve api|notifications`) with its own daprd sidecar; one Kafka broker (KRaft);
PostgreSQL. This process writes the tasks (as an API request would: task row and outbox event in one
transaction; the commit's NOTIFY wakes the API's relay). Two measurements:
  sustained  N task-created events committed as fast as the database takes them (transactions of 500);
             events/s from the first commit until the analytics consumer has applied all of them;
  latency    events committed at steady rates (100 and 1,000 per second, written every 10 ms) for 20 s
             each; for each event, the time from its commit until the analytics consumer claimed it (its
             processed_events row, written first in the transaction that applies it): p50 / p99 / max.

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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

sys.path.insert(0, str(Path(__file__).resolve().parent))
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from common import fresh_postgres, write_section
from todo import wakeups
from todo.auth.models import User
from todo.bootstrap import Container, build_container
from todo.config import Role, Settings
from todo.dapr_local import LocalServers, spawn_service
from todo.events.envelope import Topic
from todo.events.models import ProcessedEvent, TaskEvent
from todo.migrate import upgrade
from todo.tasks import service as tasks

console = Console()
COMMITTED: dict[str, float] = {}  # event id -> when its transaction committed (wall clock)


@dataclass(frozen=True)
class Options:
    events: int  # for the sustained run
    seconds: int  # length of each steady run
    rates: list[int]  # steady rates, events/s
    whole_tasks: bool  # write through the task service instead of straight into the outbox
    partitions: int  # per topic

    def command(self) -> str:
        flags = f"--events {self.events} --seconds {self.seconds} --rates {','.join(map(str, self.rates))}"
        flags += " --whole-tasks" if self.whole_tasks else ""
        flags += f" --partitions {self.partitions}" if self.partitions != 3 else ""
        return f"bench/event_pipeline.py {flags}"


@dataclass
class Writer:
    """Commits task-created events. `whole_tasks`: through the task service (task row + outbox event, as
    an API request does); otherwise straight into the outbox, copies of a real task's event with new
    task ids, so that the figures are the pipeline's and not the task service's."""

    container: Container
    user: User
    whole_tasks: bool
    template: dict[str, Any] = field(default_factory=dict)

    async def write(self, count: int) -> list[str]:
        async with self.container.sessions() as session, session.begin():
            if self.whole_tasks or not self.template:
                event_ids = await self._tasks(session, count)
            else:
                event_ids = await self._events(session, count)
        committed = time.time()
        COMMITTED.update(dict.fromkeys(event_ids, committed))
        return event_ids

    async def _tasks(self, session: AsyncSession, count: int) -> list[str]:
        now = datetime.now(UTC)
        created = [
            await tasks.create(session, user=self.user, fields={"title": "bench"}, now=now)
            for _ in range(count)
        ]
        await session.flush()
        rows = (
            await session.scalars(select(TaskEvent).where(TaskEvent.subject.in_([t.id for t in created])))
        ).all()
        if not self.template:
            self.template = {
                c.key: getattr(rows[0], c.key) for c in TaskEvent.__table__.columns if c.key != "seq"
            }
        return [str(r.id) for r in rows]

    async def _events(self, session: AsyncSession, count: int) -> list[str]:
        rows, now = [], datetime.now(UTC)
        for _ in range(count):
            task_id = uuid.uuid4()
            data = {**self.template["data"], "id": str(task_id)}
            rows.append(
                {**self.template, "id": uuid.uuid4(), "subject": task_id, "data": data, "created_at": now}
            )
        await session.execute(insert(TaskEvent), rows)
        wakeups.after_commit(session, wakeups.OUTBOX)
        return [str(r["id"]) for r in rows]


async def fresh_topics(kafka: str, partitions: int) -> None:
    """Recreate our topics empty, with `partitions` partitions each (one replica: one broker here)."""
    ours = [t.value for t in Topic] + ["dead-letters"]
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        existing = set(await admin.list_topics()) & set(ours)
        if existing:
            await admin.delete_topics(sorted(existing))
        for _ in range(100):  # deletion finishes in the background
            try:
                await admin.create_topics([NewTopic(name, partitions, 1) for name in ours])
                return
            except TopicAlreadyExistsError:
                await asyncio.sleep(0.1)
        raise RuntimeError("topics were not deleted in time")
    finally:
        await admin.close()


async def processed(db: Container) -> int:
    async with db.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(ProcessedEvent).where(ProcessedEvent.consumer == "analytics")
        )
    return count or 0


async def applied_at(db: Container, ids: list[str]) -> dict[str, float]:
    """When the analytics consumer claimed each of `ids` (wall clock)."""
    found: dict[str, float] = {}
    async with db.sessions() as session:
        for start in range(0, len(ids), 5000):
            rows = await session.execute(
                select(ProcessedEvent.event_id, ProcessedEvent.processed_at).where(
                    ProcessedEvent.consumer == "analytics",
                    ProcessedEvent.event_id.in_(ids[start : start + 5000]),
                )
            )
            found.update((event_id, at.timestamp()) for event_id, at in rows)
    return found


async def sustained(writer: Writer, events: int) -> tuple[float, float]:
    base = await processed(writer.container)
    started = time.perf_counter()
    for _ in range(events // 500):
        await writer.write(500)
    written = time.perf_counter() - started
    with Progress(console=console, transient=True) as progress:
        bar = progress.add_task("consumed", total=events)
        while (done := await processed(writer.container) - base) < events:
            progress.update(bar, completed=done)
            await asyncio.sleep(0.05)
    return written, time.perf_counter() - started


async def steady(writer: Writer, seconds: int, rate: int) -> list[float]:
    """`rate` / 100 events every 10 ms; latency of each from commit to the consumer's effect."""
    ids: list[str] = []
    tick = time.perf_counter()
    for _ in range(seconds * 100):
        ids += await writer.write(rate // 100)
        tick += 0.01
        await asyncio.sleep(max(0.0, tick - time.perf_counter()))
    deadline = time.time() + 60
    while len(seen := await applied_at(writer.container, ids)) < len(ids) and time.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.5)
    return sorted(seen[i] - COMMITTED[i] for i in ids if i in seen)


async def run(database_url: str, parts: tuple[str, str, str], opts: Options) -> dict[str, Any]:
    kafka, redis, daprd = parts
    await fresh_topics(kafka, opts.partitions)
    await asyncio.to_thread(upgrade, database_url)
    settings = Settings(database_url=database_url, jwt_secret="bench-" + "x" * 40, log_level="WARNING")  # type: ignore[arg-type]
    db = build_container(settings)  # sessions only: its relay never starts
    with tempfile.TemporaryDirectory() as tmp:
        servers, workdir = LocalServers(kafka, redis), Path(tmp)
        api = await spawn_service(Role.api, settings, daprd=daprd, servers=servers, workdir=workdir)
        notifications = await spawn_service(
            Role.notifications, settings, daprd=daprd, servers=servers, workdir=workdir
        )
        try:
            writer = Writer(db, await _user(db), opts.whole_tasks)
            await writer.write(1)  # warm the path (topics, partitions, consumer group); takes the template
            while await processed(db) < 1:  # noqa: ASYNC110 (polls another service)
                await asyncio.sleep(0.1)
            written, total = await sustained(writer, opts.events)
            latencies = {rate: await steady(writer, opts.seconds, rate) for rate in opts.rates}
        finally:
            await notifications.stop()
            await api.stop()
            await db.engine.dispose()
    by_rate = {rate: _percentiles(found, opts.seconds * rate) for rate, found in latencies.items()}
    return {"written_s": written, "total_s": total, "rate": opts.events / total, "latency": by_rate}


def _percentiles(latencies: list[float], expected: int) -> dict[str, float]:
    return {
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        "max": latencies[-1],
        "measured": len(latencies),
        "expected": expected,
    }


async def _user(db: Container) -> User:
    now = datetime.now(UTC)
    user = User(id=uuid.uuid4(), email=f"{uuid.uuid4().hex}@example.com", password_hash="-", timezone="UTC",
                created_at=now, updated_at=now)  # fmt: skip
    async with db.sessions() as session, session.begin():
        session.add(user)
    return user


def main(
    events: Annotated[int, typer.Option(help="Events for the sustained run")] = 20_000,
    seconds: Annotated[int, typer.Option(help="Length of each steady run")] = 20,
    rates: Annotated[
        str, typer.Option(help="Steady rates to measure latency at (events/s, multiples of 100)")
    ] = "100,1000",
    whole_tasks: Annotated[
        bool,
        typer.Option(help="Write through the task service (task rows too), not straight into the outbox"),
    ] = False,
    partitions: Annotated[int, typer.Option(min=1, help="Partitions per topic")] = 3,
    record: Annotated[bool, typer.Option(help="Write docs/benchmarks.md")] = True,
) -> None:
    needed = ["TODO_DEVSTACK_POSTGRES_URL", "TODO_TEST_KAFKA", "TODO_TEST_REDIS", "TODO_TEST_DAPRD"]
    missing = [name for name in needed if not os.environ.get(name)]
    if missing:
        raise typer.BadParameter(f"{', '.join(missing)} not set: run through `make bench-pipeline`")
    steady_rates = [int(r) for r in rates.split(",")]
    if any(r <= 0 or r % 100 for r in steady_rates):
        raise typer.BadParameter("rates are positive multiples of 100 (events are written every 10 ms)")
    url = asyncio.run(fresh_postgres(os.environ["TODO_DEVSTACK_POSTGRES_URL"], "todo_bench_pipeline"))
    parts = (os.environ["TODO_TEST_KAFKA"], os.environ["TODO_TEST_REDIS"], os.environ["TODO_TEST_DAPRD"])
    opts = Options(events, seconds, steady_rates, whole_tasks, partitions)
    r = asyncio.run(run(url, parts, opts))
    lines = _report(r, opts)
    console.print("\n".join(lines))
    if record:
        write_section(_section(opts), "\n".join(lines))
        console.print("[green]recorded in docs/benchmarks.md[/green]")


def _section(opts: Options) -> str:
    return (
        "event-pipeline"
        + ("-tasks" if opts.whole_tasks else "")
        + (f"-{opts.partitions}p" if opts.partitions != 3 else "")
    )


def _report(r: dict[str, Any], opts: Options) -> Sequence[str]:
    at_1000 = r["latency"].get(1000)
    partitions = f"{opts.partitions} partition{'s' if opts.partitions != 1 else ''} per topic"
    writes = (
        "the benchmark process creating tasks through the task service (task row and outbox event in one "
        "transaction, as an API request does, so the task service's own work shares the 2 cores)"
        if opts.whole_tasks
        else "the benchmark process committing task-created events straight into the outbox (copies of a "
        "real task's event with new task ids; the task service's own cost is `make bench`'s subject)"
    )
    return [
        "## Event pipeline through Dapr and Kafka"
        + (", tasks created through the task service" if opts.whole_tasks else "")
        + (f", {partitions}" if opts.partitions != 3 else "")
        + " (`bench/event_pipeline.py`)",
        "",
        f"Command: `{opts.command()}` (`make bench-pipeline` runs the default). "
        "All on this machine's 2 cores, as in a deployment: the API service and the notifications service, "
        "each its own process (`todo serve`) with its own daprd 1.18 sidecar; one Kafka 4.1 broker (KRaft, "
        f"{partitions}); PostgreSQL 15; {writes}. The relay publishes through the "
        "sidecar's bulk API; the notifications service receives bulk deliveries (up to 500) and runs its "
        "consumers (analytics, reminder schedule) on them, side by side. Latency is from the writer's "
        "commit to the analytics consumer's claim of the event (its processed-event row, written first in "
        "the transaction that applies it).",
        "",
        f"Targets: at least 10,000 events/s sustained ({_verdict(r['rate'] >= 10_000)}); p99 under 50 ms at "
        f"1,000 events/s ({_verdict(at_1000 is not None and at_1000['p99'] < 0.05)}).",
        "",
        "| measurement | result |",
        "|---|---|",
        f"| sustained: {opts.events:,} events committed in transactions of 500 "
        f"| written in {r['written_s']:.1f} s; "
        f"all consumed after {r['total_s']:.1f} s: **{r['rate']:,.0f} events/s** outbox to consumer |",
        *(
            f"| latency at {rate:,} events/s for {opts.seconds} s (commit to consumer) "
            f"| p50 {x['p50'] * 1000:.0f} ms, "
            f"**p99 {x['p99'] * 1000:.0f} ms**, max {x['max'] * 1000:.0f} ms "
            f"({int(x['measured']):,} of {int(x['expected']):,} events seen) |"
            for rate, x in r["latency"].items()
        ),
    ]


def _verdict(met: bool) -> str:
    return "met" if met else "**not met**"


if __name__ == "__main__":
    typer.run(main)
