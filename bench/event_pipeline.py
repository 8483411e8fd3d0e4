"""The event pipeline through Dapr and Kafka: outbox commit -> relay -> daprd -> Kafka -> daprd -> consumers.

Topology, all on this machine, as in a deployment: the API service and the notifications service, each
its own process (`todo serve api|notifications`) with its own daprd sidecar; one Kafka broker (KRaft)
with one partition per topic per consuming sidecar (the deployment's ratio, see docs/benchmarks.md);
PostgreSQL. This process writes the events (as an API request would, one transaction each batch; the
commit's NOTIFY wakes the API's relay). Each run measures:
  sustained  N task-created events committed as fast as the database takes them (transactions of 500);
             events/s from the first commit until the analytics consumer has committed all of them,
             and each process's share of a core meanwhile (what bounds it);
  latency    events committed at steady rates (100 and 1,000 per second, written every 10 ms); for each
             event, from its commit to the commit of the analytics consumer's transaction that applied
             it (PostgreSQL's commit timestamps), p50 / p99 / max; and per hop, from the services' own
             `todo_event_hop_seconds` histograms: outbox (written -> read by the relay), publish (read
             -> acknowledged by the sidecar), transit (sent to Kafka -> delivered to the app), consume
             (delivered -> the consumers committed and answered).
Three runs by default, each with fresh topics, database and services; the report gives every run.

    make bench-pipeline             # scripts/devstack up postgres redis kafka daprd, then this
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import Progress
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    Buckets,
    bucket_quantile,
    cpu_seconds,
    fresh_postgres,
    fresh_topics,
    histogram_buckets,
    housekeeping_runs,
    kafka_broker_pids,
    machine_cpu_seconds,
    postgres_pids,
    require_devstack,
    run_as_services_do,
    runs_table,
    settle_database,
    speed_probe_ms,
    write_section,
)
from todo import wakeups
from todo.auth.models import User
from todo.bootstrap import Container, build_container
from todo.config import Role, Settings
from todo.dapr_local import LocalServers, ServiceProcess, spawn_service
from todo.events.models import ProcessedEvent, TaskEvent
from todo.migrate import upgrade
from todo.platform.heap import tune_garbage_collector
from todo.projects.inbox import add_inbox
from todo.tasks import service as tasks
from todo.tasks.schemas import TaskCreate

console = Console()
HOPS = ("outbox", "publish", "transit", "consume")
TARGET_P99 = {100: 0.030, 1000: 0.100}  # seconds, by rate (issue 13; the specification's is 100 ms)
# Each steady rate runs until at least this many events: a p99 then rests on the 60 slowest, not on the 20
# slowest of 20 s at 100/s, which moved by a third from run to run with the machine's hiccups.
MIN_STEADY_EVENTS = 6_000
# And for a minute at least: at 1,000/s the events above the p99 come in bursts (20 to 36 in 30 s, each a
# few dozen events delayed together), so a p99 of 20 s rested on a score of bursts.
STEADY_SECONDS = 60
SPREAD_LIMIT = 0.20  # runs of one figure within 20 % of each other
WARMUP_NOTE = (
    ", after one uncounted warm-up run of the same shape: the broker is the one part not fresh in each "
    "run, and without a warm-up the first run was the slowest in both recordings of stop 24 (p99 at "
    "1,000/s of 56 and 47 ms against 25-44 ms in the runs after it); after a short one (10 s at the "
    "highest rate) it still was at 1,000/s in the three recordings of stops 32 and 33 (23 against 16-17 "
    "ms, 20 against 12-19, 24 against 20-20) and at 100/s in two of them"
)


@dataclass(frozen=True)
class Options:
    events: int  # for the sustained run
    seconds: int  # shortest steady run (slower rates run longer: MIN_STEADY_EVENTS)
    rates: list[int]  # steady rates, events/s
    whole_tasks: bool  # write through the task service instead of straight into the outbox
    partitions: int  # per topic
    runs: int
    warmup: bool = True  # one uncounted run first

    def seconds_at(self, rate: int) -> int:
        return max(self.seconds, -(-MIN_STEADY_EVENTS // rate))

    def command(self) -> str:
        flags = f"--events {self.events} --seconds {self.seconds} --rates {','.join(map(str, self.rates))}"
        flags += " --whole-tasks" if self.whole_tasks else ""
        flags += f" --partitions {self.partitions}" if self.partitions != 1 else ""
        flags += f" --runs {self.runs}" if self.runs != 3 else ""
        flags += "" if self.warmup else " --no-warmup"
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
    committed: dict[str, float] = field(default_factory=dict)  # event id -> when its commit returned

    async def write(self, count: int) -> list[str]:
        async with self.container.sessions() as session, session.begin():
            if self.whole_tasks or not self.template:
                event_ids = await self._tasks(session, count)
            else:
                event_ids = await self._events(session, count)
        self.committed.update(dict.fromkeys(event_ids, time.time()))
        return event_ids

    async def _tasks(self, session: AsyncSession, count: int) -> list[str]:
        now = datetime.now(UTC)
        created = [
            await tasks.create(session, user=self.user, data=TaskCreate(title="bench"), now=now)
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
        await session.execute(insert(TaskEvent.__table__), rows)  # Core: the ORM's bulk path costs more
        wakeups.after_commit(session, wakeups.OUTBOX)
        return [str(r["id"]) for r in rows]


Started = tuple[float, dict[str, "Buckets"], dict[str, dict[int, float]], tuple[float, float]]


@dataclass
class Observed:
    """What the services and this machine reported over one phase of a run."""

    hops: dict[str, dict[str, float | None]]  # hop -> p50 / p99
    cpu: dict[str, float]  # process group -> share of one core
    # Shares of one core: what the rest of this machine used, and what the hypervisor took (steal)
    host: dict[str, float]


class Probe:
    """Reads the services' hop histograms and every part's CPU time, before and after a phase."""

    def __init__(self, api: ServiceProcess, notifications: ServiceProcess) -> None:
        self.services = (api, notifications)
        self.groups: dict[str, Callable[[], list[int]]] = {
            "benchmark (writer)": lambda: [os.getpid()],
            "API service (relay)": lambda: [api.process.pid],
            "API sidecar": lambda: [api.sidecar.process.pid],
            "notifications service": lambda: [notifications.process.pid],
            "notifications sidecar": lambda: [notifications.sidecar.process.pid],
            "Kafka": kafka_broker_pids,
            "PostgreSQL": postgres_pids,
        }

    def _hops(self) -> dict[str, Buckets]:
        page = "".join(httpx.get(f"{s.url}/metrics", timeout=10).text for s in self.services)
        return {hop: histogram_buckets(page, "todo_event_hop_seconds", {"hop": hop}) for hop in HOPS}

    def _cpu(self) -> dict[str, dict[int, float]]:
        return {name: {pid: cpu_seconds(pid) for pid in pids()} for name, pids in self.groups.items()}

    def start(self) -> Started:
        return time.time(), self._hops(), self._cpu(), machine_cpu_seconds()

    def stop(self, started: Started) -> Observed:
        at, hops, cpu, (busy, steal) = started
        elapsed, hops_now, cpu_now = time.time() - at, self._hops(), self._cpu()
        busy_now, steal_now = machine_cpu_seconds()
        ours = {
            name: sum(used - cpu[name].get(pid, 0.0) for pid, used in now.items()) / elapsed
            for name, now in cpu_now.items()
        }
        return Observed(
            hops={
                hop: {f"p{round(q * 100)}": bucket_quantile(hops[hop], hops_now[hop], q) for q in (0.5, 0.99)}
                for hop in HOPS
            },
            cpu=ours,
            host={
                "others": max((busy_now - busy) / elapsed - sum(ours.values()), 0.0),
                "steal": (steal_now - steal) / elapsed,
            },
        )


async def consumed(db: Container) -> int:
    async with db.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(ProcessedEvent).where(ProcessedEvent.consumer == "analytics")
        )
    return count or 0


async def consumer_commits(db: Container, ids: list[str]) -> dict[str, float]:
    """When the analytics consumer's transaction that applied each of `ids` committed (wall clock)."""
    query = text(
        "SELECT event_id, extract(epoch FROM pg_xact_commit_timestamp(xmin)) FROM processed_events "
        "WHERE consumer = 'analytics' AND event_id = ANY(:ids)"
    )
    found: dict[str, float] = {}
    async with db.sessions() as session:
        for start in range(0, len(ids), 5000):
            rows = await session.execute(query, {"ids": ids[start : start + 5000]})
            found.update((event_id, float(at)) for event_id, at in rows if at is not None)
    return found


async def sustained(writer: Writer, probe: Probe, events: int) -> dict[str, Any]:
    base = await consumed(writer.container)
    started, observing = time.perf_counter(), probe.start()
    for _ in range(events // 500):
        await writer.write(500)
    written = time.perf_counter() - started
    with Progress(console=console, transient=True, refresh_per_second=2) as progress:
        bar = progress.add_task("sustained: consumed", total=events)
        while (done := await consumed(writer.container) - base) < events:
            progress.update(bar, completed=done)
            await asyncio.sleep(0.05)
    total = time.perf_counter() - started
    return {"written_s": written, "total_s": total, "rate": events / total, "cpu": probe.stop(observing).cpu}


async def write_steadily(writer: Writer, rate: int, seconds: int, label: str) -> list[str]:
    """`rate` / 100 events every 10 ms for `seconds`; their ids."""
    ids: list[str] = []
    tick = time.perf_counter()
    with Progress(console=console, transient=True, refresh_per_second=2) as progress:
        bar = progress.add_task(label, total=seconds * 100)
        for step in range(seconds * 100):
            ids += await writer.write(rate // 100)
            tick += 0.01
            await asyncio.sleep(max(0.0, tick - time.perf_counter()))
            progress.update(bar, completed=step + 1)
    return ids


async def steady(writer: Writer, probe: Probe, seconds: int, rate: int) -> dict[str, Any]:
    """`rate` / 100 events every 10 ms; each event's latency from its commit to the consumer's commit.
    Starts from a settled database, as `make bench`'s phases do: without it, whether a timed checkpoint
    or the previous phase's autovacuum fell inside these seconds moved one run's p99 against another's."""
    url = writer.container.settings.database_url
    await settle_database(url)
    housekeeping = await housekeeping_runs(url)
    observing = probe.start()
    ids = await write_steadily(writer, rate, seconds, f"{rate:,} events/s")
    deadline = time.time() + 60
    while len(seen := await consumer_commits(writer.container, ids)) < len(ids) and time.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.2)
    observed = probe.stop(observing)
    timed = [
        (writer.committed[i], seen[i] - writer.committed[i]) for i in ids if i in seen
    ]  # (commit, latency)
    percentiles = latency_percentiles(sorted(latency for _, latency in timed), len(ids))
    slowest = [committed for committed, latency in timed if latency > percentiles["p99"]]
    return {
        **percentiles,
        "bursts": bursts(slowest),
        "hops": observed.hops,
        "cpu": observed.cpu,
        "host": observed.host,
        "housekeeping": [n - was for n, was in zip(await housekeeping_runs(url), housekeeping, strict=True)],
    }


async def one_run(database_url: str, parts: tuple[str, str, str], opts: Options) -> dict[str, Any]:
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
            await require_commit_timestamps(db)
            writer = Writer(db, await bench_user(db), opts.whole_tasks)
            await writer.write(1)  # warm the path (topics, partitions, consumer group); takes the template
            while await consumed(db) < 1:  # noqa: ASYNC110 (polls another service)
                await asyncio.sleep(0.1)
            tune_garbage_collector()  # this process's collector pauses would count as latency too
            probe = Probe(api, notifications)
            result = await sustained(writer, probe, opts.events)
            result["latency"] = {
                rate: await steady(writer, probe, opts.seconds_at(rate), rate) for rate in opts.rates
            }
        finally:
            await notifications.stop()
            await api.stop()
            await db.engine.dispose()
    return result


async def require_commit_timestamps(db: Container) -> None:
    async with db.sessions() as session:
        if await session.scalar(text("SHOW track_commit_timestamp")) != "on":
            raise typer.BadParameter(
                "PostgreSQL runs without track_commit_timestamp: restart it (scripts/devstack down, then "
                "make bench-pipeline)"
            )


BURST_GAP_SECONDS = 0.1


def bursts(commit_times: list[float]) -> list[int]:
    """How many events each burst holds: events committed within BURST_GAP_SECONDS of the previous one
    belong to its burst. Run on the events slower than the p99, it tells a tail of a few long hiccups
    (each delaying every event behind it) from one of many events each unlucky on its own."""
    sizes: list[int] = []
    last = None
    for at in sorted(commit_times):
        if last is not None and at - last < BURST_GAP_SECONDS:
            sizes[-1] += 1
        else:
            sizes.append(1)
        last = at
    return sizes


def latency_percentiles(latencies: list[float], expected: int) -> dict[str, float]:
    if not latencies:
        raise RuntimeError("no event reached the consumer: see the services' logs")
    return {
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        "max": latencies[-1],
        "measured": len(latencies),
        "expected": expected,
    }


async def bench_user(db: Container) -> User:
    now = datetime.now(UTC)
    user = User(id=uuid.uuid4(), email=f"{uuid.uuid4().hex}@example.com", password_hash="-", timezone="UTC",
                created_at=now, updated_at=now)  # fmt: skip
    async with db.sessions() as session, session.begin():
        session.add(user)
        await session.flush()
        add_inbox(session, user, now)
    return user


def main(
    events: Annotated[int, typer.Option(help="Events for the sustained run")] = 20_000,
    seconds: Annotated[
        int, typer.Option(help=f"Shortest steady run (each runs for {MIN_STEADY_EVENTS:,} events at least)")
    ] = STEADY_SECONDS,
    rates: Annotated[
        str, typer.Option(help="Steady rates to measure latency at (events/s, multiples of 100)")
    ] = "100,1000",
    whole_tasks: Annotated[
        bool,
        typer.Option(help="Write through the task service (task rows too), not straight into the outbox"),
    ] = False,
    partitions: Annotated[int, typer.Option(min=1, help="Partitions per topic")] = 1,
    runs: Annotated[int, typer.Option(min=1, help="Repeats, each from scratch")] = 3,
    warmup: Annotated[
        bool, typer.Option(help="First one uncounted run, which the long-running broker's JVM compiles in")
    ] = True,
    record: Annotated[bool, typer.Option(help="Write docs/benchmarks.md")] = True,
) -> None:
    require_devstack("bench-pipeline")
    steady_rates = [int(r) for r in rates.split(",")]
    if any(r <= 0 or r % 100 for r in steady_rates):
        raise typer.BadParameter("rates are positive multiples of 100 (events are written every 10 ms)")
    opts = Options(events, seconds, steady_rates, whole_tasks, partitions, runs, warmup)
    parts = (os.environ["TODO_TEST_KAFKA"], os.environ["TODO_TEST_REDIS"], os.environ["TODO_TEST_DAPRD"])
    if warmup:  # the broker runs for weeks in a deployment: its hot paths compiled, its files cached
        console.print("warm-up run (not counted)")
        url = asyncio.run(fresh_postgres(os.environ["TODO_DEVSTACK_POSTGRES_URL"], "todo_bench_pipeline"))
        run_as_services_do(one_run(url, parts, opts))
    results = []
    for run in range(1, runs + 1):
        console.print(f"run {run} of {runs}")
        url = asyncio.run(fresh_postgres(os.environ["TODO_DEVSTACK_POSTGRES_URL"], "todo_bench_pipeline"))
        before = speed_probe_ms()
        results.append(run_as_services_do(one_run(url, parts, opts)))
        results[-1]["probe_ms"] = (before, speed_probe_ms())
    lines = _report(results, opts)
    console.print("\n".join(lines))
    if record:
        write_section(_section(opts), "\n".join(lines))
        console.print("[green]recorded in docs/benchmarks.md[/green]")


def _section(opts: Options) -> str:
    return (
        "event-pipeline"
        + ("-tasks" if opts.whole_tasks else "")
        + (f"-{opts.partitions}p" if opts.partitions != 1 else "")
    )


def _ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1000:.0f}"


def spread_of(values: Sequence[float]) -> float:
    """How far apart the runs are: the largest over the smallest, less one."""
    return max(values) / min(values) - 1 if min(values) > 0 else float("inf")


def _report(results: list[dict[str, Any]], opts: Options) -> list[str]:
    partitions = f"{opts.partitions} partition{'s' if opts.partitions != 1 else ''} per topic"
    writes = (
        "the benchmark process creating tasks through the task service (task row and outbox event in one "
        "transaction, as an API request does)"
        if opts.whole_tasks
        else "the benchmark process committing task-created events straight into the outbox (copies of a "
        "real task's event with new task ids; the task service's own cost is `make bench`'s subject)"
    )
    lines = [
        "## Event pipeline through Dapr and Kafka"
        + (", tasks created through the task service" if opts.whole_tasks else "")
        + (f", {partitions}" if opts.partitions != 1 else "")
        + " (`bench/event_pipeline.py`)",
        "",
        f"Command: `{opts.command()}` (`make bench-pipeline` runs the default), {len(results)} runs, each "
        "with fresh topics, database and services"
        + (WARMUP_NOTE if opts.warmup else "")
        + ". All on this machine's 2 cores, as in a deployment: the "
        "API service and the notifications service, each its own process (`todo serve`) with its own daprd "
        f"1.18 sidecar; one Kafka 4.1 broker (KRaft, {partitions}); PostgreSQL 15; {writes}. Latency is "
        "from the writer's commit to the commit of the analytics consumer's transaction that applied the "
        "event (PostgreSQL's commit timestamps); the hops come from the services' `todo_event_hop_seconds` "
        "histograms (interpolated within their buckets).",
        "",
        *_verdicts(results, opts),
        "",
        *runs_table(len(results)),
        f"| sustained: {opts.events:,} events in transactions of 500, outbox to consumer | "
        + " | ".join(f"**{r['rate']:,.0f} events/s** ({r['total_s']:.1f} s)" for r in results)
        + " |",
        "| this machine's speed: a fixed Python task before / after the run (`speed_probe_ms`, lower is "
        "faster) | "
        + " | ".join(f"{r['probe_ms'][0]:.0f} / {r['probe_ms'][1]:.0f} ms" for r in results)
        + " |",
    ]
    for rate in opts.rates:
        runs = [r["latency"][rate] for r in results]
        lines.append(
            f"| {rate:,} events/s for {opts.seconds_at(rate)} s, commit to consumer's commit | "
            + " | ".join(
                f"p50 {_ms(x['p50'])} ms, **p99 {_ms(x['p99'])} ms**, max {_ms(x['max'])} ms"
                + (
                    ""
                    if x["measured"] == x["expected"]
                    else f" ({x['measured']:,} of {x['expected']:,} seen)"
                )
                for x in runs
            )
            + " |"
        )
        lines.append(
            f"| &nbsp;&nbsp;{rate:,}/s, the events slower than the p99: in how many bursts (committed "
            f"less than {BURST_GAP_SECONDS * 1000:.0f} ms apart), the largest | "
            + " | ".join(f"{len(x['bursts'])}, {max(x['bursts'], default=0)} events" for x in runs)
            + " |"
        )
        lines.append(
            f"| &nbsp;&nbsp;{rate:,}/s, the rest of this machine: other processes / stolen by the host "
            "(share of one core) | "
            + " | ".join(f"{x['host']['others']:.0%} / {x['host']['steal']:.0%}" for x in runs)
            + " |"
        )
        lines.append(
            f"| &nbsp;&nbsp;{rate:,}/s, PostgreSQL's housekeeping meanwhile: checkpoints / autovacuum runs | "
            + " | ".join(f"{x['housekeeping'][0]} / {x['housekeeping'][1]}" for x in runs)
            + " |"
        )
        for hop in HOPS:
            lines.append(
                f"| &nbsp;&nbsp;{rate:,}/s hop: {hop} | "
                + " | ".join(
                    f"p50 {_ms(x['hops'][hop]['p50'])}, p99 {_ms(x['hops'][hop]['p99'])} ms" for x in runs
                )
                + " |"
            )
    lines += ["", *_cpu_table(results, opts)]
    return lines


def _verdicts(results: list[dict[str, Any]], opts: Options) -> list[str]:
    found = []
    for rate in opts.rates:
        p99s = [r["latency"][rate]["p99"] for r in results]
        target = TARGET_P99.get(rate)
        spread = spread_of(p99s)
        if target is not None:
            met = max(p99s) < target and spread <= SPREAD_LIMIT
            found.append(
                f"- p99 under {target * 1000:.0f} ms at {rate:,} events/s in every run, runs within "
                f"{SPREAD_LIMIT:.0%} of each other: {'met' if met else '**not met**'} (p99 "
                f"{', '.join(_ms(p) for p in p99s)} ms; spread {spread:.0%})"
            )
    best = max(r["rate"] for r in results)
    found.append(
        f"- sustained throughput toward 10,000 events/s: {best:,.0f} events/s at best (what bounds it: below)"
    )
    return found


def _cpu_table(results: list[dict[str, Any]], opts: Options) -> list[str]:
    """Each part's share of one core (100 % = a whole core; the machine has 2): sustained and steady."""
    phases = [("sustained", [r["cpu"] for r in results])]
    phases += [(f"{rate:,}/s", [r["latency"][rate]["cpu"] for r in results]) for rate in opts.rates]
    names = list(results[0]["cpu"])
    lines = [
        "CPU, share of one core (median of the runs; the machine has two):",
        "",
        "| process | " + " | ".join(phase for phase, _ in phases) + " |",
        "|---|" + "---|" * len(phases),
    ]
    for name in names:
        cells = [f"{statistics.median(c[name] for c in shares):.0%}" for _, shares in phases]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    totals = [f"{statistics.median(sum(c.values()) for c in shares):.0%}" for _, shares in phases]
    lines.append("| all of them | " + " | ".join(totals) + " |")
    return lines


if __name__ == "__main__":
    typer.run(main)
