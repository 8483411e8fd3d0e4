"""Reminders through Dapr and Kafka: what a burst of due reminders costs each process, and how late they
reach the inbox.

Topology as `bench/event_pipeline.py`'s: the API service and the notifications service, each its own
process (`todo serve`) with its own daprd sidecar, one Kafka broker, PostgreSQL. One user creates tasks
through the API, each with a reminder at its due time, due 10 ms apart (100 a second, the load of
`tests/cluster/test_failures.py`'s burst). While they fall due, the notifications service's clock sends
each as an event, the relay that leads (either service's) publishes it, and the inbox and webhooks
consumers take it back from Kafka. Each run reports, per process, the CPU time the burst cost per
reminder, and how late the notifications were written (`recorded_at` minus the reminder's time: p50 /
p99 / max). Three runs by default, each on a fresh database, topics and services.

    make bench-reminder-pipeline    # scripts/devstack up postgres redis kafka daprd, then this
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    cpu_seconds,
    fresh_postgres,
    fresh_topics,
    kafka_broker_pids,
    postgres_pids,
    require_devstack,
    run_as_services_do,
    runs_table,
    speed_probe_ms,
    write_section,
)
from todo.config import Role, Settings
from todo.dapr_local import LocalServers, ServiceProcess, spawn_service
from todo.migrate import upgrade

console = Console()
RATE = 100  # reminders due per second
LEAD_SECONDS = 20  # from the first task created to the first reminder due: the tasks' creation fits in it
SETTLE_SECONDS = 5  # after the last reminder's time, for the last ones to reach the inbox

Groups = dict[str, Callable[[], list[int]]]


@dataclass
class Run:
    cpu: dict[str, float]  # seconds of CPU per reminder, by process
    late: list[float]  # each notification written after its reminder's time, seconds, in order
    probe_ms: tuple[float, float] = (0.0, 0.0)  # speed_probe_ms before and after


def groups_of(api: ServiceProcess, notifications: ServiceProcess) -> Groups:
    return {
        "notifications service": lambda: [notifications.process.pid],
        "notifications sidecar": lambda: [notifications.sidecar.process.pid],
        "API service": lambda: [api.process.pid],
        "API sidecar": lambda: [api.sidecar.process.pid],
        "Kafka": kafka_broker_pids,
        "PostgreSQL": postgres_pids,
    }


def cpu_of(groups: Groups) -> dict[str, float]:
    return {name: sum(cpu_seconds(pid) for pid in pids()) for name, pids in groups.items()}


def create_tasks(api_url: str, due: Sequence[datetime]) -> str:
    """Sign a user up and create one task per due time, each reminded at it; the user's id."""
    with httpx.Client(base_url=api_url, timeout=30) as client:
        answer = client.post(
            "/api/auth/register", json={"email": f"{uuid.uuid4().hex}@example.com", "password": "password123"}
        )
        answer.raise_for_status()
        client.headers["authorization"] = f"Bearer {answer.json()['access_token']}"

        def create(at: datetime) -> None:
            body = {"title": "due", "due_date": at.isoformat(), "reminder_minutes": [0]}
            client.post("/api/tasks", json=body).raise_for_status()

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(create, due))
        return str(client.get("/api/me").json()["id"])


async def one_run(database_url: str, count: int) -> Run:
    await fresh_topics(os.environ["TODO_TEST_KAFKA"], 1)
    await asyncio.to_thread(upgrade, database_url)
    settings = Settings(database_url=database_url, jwt_secret="bench-" + "x" * 40, log_level="WARNING")
    servers = LocalServers(os.environ["TODO_TEST_KAFKA"], os.environ["TODO_TEST_REDIS"])
    daprd = os.environ["TODO_TEST_DAPRD"]
    with tempfile.TemporaryDirectory() as tmp:
        api = await spawn_service(Role.api, settings, daprd=daprd, servers=servers, workdir=Path(tmp))
        notifications = await spawn_service(
            Role.notifications, settings, daprd=daprd, servers=servers, workdir=Path(tmp)
        )
        try:
            first = (datetime.now(UTC) + timedelta(seconds=LEAD_SECONDS)).replace(microsecond=0)
            due = [first + timedelta(seconds=n / RATE) for n in range(count)]
            user_id = await asyncio.to_thread(create_tasks, api.url, due)
            if datetime.now(UTC) >= first - timedelta(seconds=1):
                raise RuntimeError(f"creating {count:,} tasks took longer than their {LEAD_SECONDS} s lead")
            await asyncio.sleep((first - datetime.now(UTC)).total_seconds() - 0.5)
            groups = groups_of(api, notifications)
            before = cpu_of(groups)
            await asyncio.sleep((due[-1] - datetime.now(UTC)).total_seconds() + SETTLE_SECONDS)
            after = cpu_of(groups)
        finally:
            await notifications.stop()
            await api.stop()
    late = await written_lateness(database_url, user_id)
    if len(late) != count:
        raise RuntimeError(f"{len(late):,} of {count:,} reminders reached the inbox")
    return Run(cpu={name: (after[name] - before[name]) / count for name in groups}, late=late)


async def written_lateness(database_url: str, user_id: str) -> list[float]:
    """Each of the user's notifications: when it was written minus its reminder's time, in seconds."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT extract(epoch FROM recorded_at - due_at) FROM notifications WHERE user_id = :u"),
                {"u": uuid.UUID(user_id)},
            )
            return sorted(float(seconds) for (seconds,) in rows)
    finally:
        await engine.dispose()


def main(
    count: Annotated[int, typer.Option(min=100, help="Reminders, due 10 ms apart")] = 1000,
    runs: Annotated[int, typer.Option(min=1, help="Repeats, each from scratch")] = 3,
    record: Annotated[bool, typer.Option(help="Write docs/benchmarks.md")] = True,
) -> None:
    require_devstack("bench-reminder-pipeline")
    results = []
    for run in range(1, runs + 1):
        console.print(f"run {run} of {runs}: {count:,} reminders due over {count / RATE:.0f} s")
        url = asyncio.run(fresh_postgres(os.environ["TODO_DEVSTACK_POSTGRES_URL"], "todo_bench_reminders"))
        before = speed_probe_ms()
        results.append(run_as_services_do(one_run(url, count)))
        results[-1].probe_ms = (before, speed_probe_ms())
    lines = report(results, count)
    console.print("\n".join(lines))
    if record:
        write_section("reminder-pipeline", "\n".join(lines))
        console.print("[green]recorded in docs/benchmarks.md[/green]")


def report(results: list[Run], count: int) -> list[str]:
    lines = [
        "## Reminders through Dapr and Kafka (`bench/reminder_pipeline.py`)",
        "",
        f"Command: `make bench-reminder-pipeline` (= `bench/reminder_pipeline.py --count {count}`), "
        f"{len(results)} runs, each with a fresh database, topics and services. One user's {count:,} tasks, "
        f"created through the API, each reminded at its due time, due 10 ms apart ({RATE} a second): the "
        "notifications service's clock sends each reminder as an event, the relay that leads (in either "
        "service) publishes it through its sidecar, and the notifications service's inbox and webhooks "
        "consumers take it back from Kafka. Each process on its own, "
        "with its own daprd 1.18, one Kafka broker, PostgreSQL 15, on this machine's 2 cores. CPU is what "
        "the burst cost each process, from its first reminder's time until 5 s after its last, per reminder; "
        "lateness is when the notification was written minus its reminder's time.",
        "",
        *runs_table(len(results)),
    ]
    for name in results[0].cpu:
        lines.append(_row(f"CPU per reminder: {name}", [f"{r.cpu[name] * 1000:.2f} ms" for r in results]))
    totals = [f"**{sum(r.cpu.values()) * 1000:.2f} ms**" for r in results]
    lines.append(_row("CPU per reminder: all of them", totals))
    lines.append(_row("written after the reminder's time", [_lateness(r.late) for r in results]))
    probes = [f"{before:.0f} / {after:.0f} ms" for before, after in (r.probe_ms for r in results)]
    lines.append(_row("this machine's speed before / after (`speed_probe_ms`, lower is faster)", probes))
    return lines


def _row(measurement: str, cells: list[str]) -> str:
    return f"| {measurement} | " + " | ".join(cells) + " |"


def _lateness(late: list[float]) -> str:
    p99 = late[min(len(late) - 1, int(0.99 * len(late)))]
    return f"p50 {statistics.median(late):.2f} s, p99 {p99:.2f} s, max {late[-1]:.2f} s"


if __name__ == "__main__":
    typer.run(main)
