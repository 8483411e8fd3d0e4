"""What the benchmarks share: a fresh PostgreSQL database and Kafka topics, and writing figures into
docs/benchmarks.md."""

from __future__ import annotations

import asyncio
import hashlib
import os
import platform
import re
import time
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import typer
import uvloop
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from todo.events.envelope import Topic

BENCHMARKS_MD = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = (
    "# Benchmarks\n\nFigures measured on this project's machines; each section says how to reproduce it.\n"
)


T = TypeVar("T")


def run_as_services_do(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` on the event loop our services run on (uvloop, which uvicorn picks): a benchmark's own
    process shares the machine's two cores with what it measures (the pipeline's writer took 11-13 % of
    a core at 1,000 events/s on it, 13-14 % on asyncio's own loop, two runs each)."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


DEVSTACK_PARTS = ("TODO_DEVSTACK_POSTGRES_URL", "TODO_TEST_KAFKA", "TODO_TEST_REDIS", "TODO_TEST_DAPRD")


def require_devstack(make_target: str) -> None:
    """Refuse to start unless PostgreSQL, Kafka, Redis and daprd are named in the environment, as `make
    <make_target>` does through `scripts/devstack env`."""
    if missing := [name for name in DEVSTACK_PARTS if not os.environ.get(name)]:
        raise typer.BadParameter(f"{', '.join(missing)} not set: run through `make {make_target}`")


def speed_probe_ms(repeats: int = 5) -> float:
    """How long a fixed single-threaded Python task takes on this machine right now (the best of
    `repeats`, in ms; lower is faster). This VM's speed changes by tens of percent within the hour, so
    the benchmarks take it before and after each run: runs can then be compared for what the machine
    did, not only for what the code did."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        table: dict[str, int] = {}
        for n in range(200_000):
            key = hashlib.blake2b(n.to_bytes(4, "little"), digest_size=8).hexdigest()
            table[key] = table.get(key, 0) + n
        best = min(best, (time.perf_counter() - started) * 1000)
    return best


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        match = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = match.group(1).strip() if match else cpu
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        match = re.search(r"MemTotal:\s+(\d+) kB", meminfo.read_text())
        memory = f", {int(match.group(1)) / 1024 / 1024:.0f} GiB RAM" if match else ""
    system = f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    return f"{os.cpu_count()} cores ({cpu}){memory}, {system}"


def runs_table(runs: int) -> list[str]:
    """The head of a Markdown table with one column per run."""
    return [
        "| measurement | " + " | ".join(f"run {n}" for n in range(1, runs + 1)) + " |",
        "|---|" + "---|" * runs,
    ]


def write_section(name: str, body: str) -> None:
    """Replace (or add) the section between this benchmark's markers."""
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = f"{start}\n{body.rstrip()}\n\n_Measured {stamp} on {machine()}._\n{end}"
    text = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else HEADER
    if start in text:
        text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: section, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    BENCHMARKS_MD.parent.mkdir(exist_ok=True)
    BENCHMARKS_MD.write_text(text)


async def fresh_postgres(admin_url: str, name: str) -> str:
    """Drop and recreate database `name` on the server of `admin_url`; return its URL."""
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        await conn.execute(text(f"CREATE DATABASE {name}"))
    await admin.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


async def settle_database(url: str) -> None:
    """Start a measured phase from a settled database: the previous phase's dead rows vacuumed, its
    statistics current and its dirty pages written (a checkpoint), so that no autovacuum or checkpoint
    it triggered runs inside the next one and is charged to it."""
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text("VACUUM (ANALYZE)"))
            await conn.execute(text("CHECKPOINT"))
    finally:
        await engine.dispose()


async def housekeeping_runs(url: str) -> tuple[int, int]:
    """How many checkpoints, and autovacuum or autoanalyze runs on our tables, PostgreSQL has done so far:
    read before and after a phase, they tell whether its own housekeeping ran inside it."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            checkpoints = await conn.scalar(
                text("SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter")
            )
            vacuums = await conn.scalar(
                text("SELECT coalesce(sum(autovacuum_count + autoanalyze_count), 0) FROM pg_stat_user_tables")
            )
    finally:
        await engine.dispose()
    return int(checkpoints or 0), int(vacuums or 0)


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


Buckets = dict[float, float]  # upper bound -> cumulative count


def histogram_buckets(metrics_text: str, name: str, labels: dict[str, str]) -> Buckets:
    """The cumulative buckets of histogram `name` (series with `labels`, summed) in a /metrics page."""
    buckets: Buckets = {}
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name != f"{name}_bucket" or any(sample.labels.get(k) != v for k, v in labels.items()):
                continue
            bound = float(sample.labels["le"])
            buckets[bound] = buckets.get(bound, 0.0) + sample.value
    return buckets


def bucket_quantile(before: Buckets, after: Buckets, q: float) -> float | None:
    """The q-quantile of what was observed between two scrapes, interpolated inside its bucket the way
    Prometheus' histogram_quantile does; None when nothing was observed."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    if not counts or counts[-1] <= 0:
        return None
    rank = q * counts[-1]
    lower, below = 0.0, 0.0
    for bound, count in zip(bounds, counts, strict=True):
        if count >= rank:
            if bound == float("inf"):
                return lower
            return lower + (bound - lower) * (rank - below) / max(count - below, 1e-9)
        lower, below = bound, count
    return lower


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) process `pid` has used, 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_cpu_seconds() -> tuple[float, float]:
    """CPU time this machine's cores have spent busy (any process, the kernel included) and had stolen
    by the hypervisor (`steal`: ready to run, given to another guest), summed over the cores."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq) / CLOCK_TICKS, steal / CLOCK_TICKS


def pids_of(pattern: str) -> list[int]:
    """Processes whose command line contains `pattern`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if pattern in command:
                found.append(int(entry.name))
    return found


def postgres_pids() -> list[int]:
    """PostgreSQL's processes now: its connections come and go, so ask at each reading."""
    return pids_of("postgres:") + pids_of("bin/postgres")


def kafka_broker_pids() -> list[int]:
    """The devstack's single broker, which the benchmarks use (not the three-broker cluster of the tests)."""
    return pids_of("/kafka/server.properties")


def process_tree(pid: int) -> list[int]:
    """`pid` and every process below it (a server's worker processes)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    tree, stack = [], [pid]
    while stack:
        tree.append(current := stack.pop())
        stack.extend(children.get(current, []))
    return tree
