"""The floor under the event pipeline: Dapr and Kafka alone, measured side by side with our pipeline.

What the specification's "event latency" can be on this machine before any code of ours runs: the same
two daprd sidecars with the same resource files (deploy/dapr), the same Kafka broker and topic layout, the
same traffic shape (events every 10 ms; one bulk publish in flight at a time, carrying every event
waiting, as the relay does; the task id as partition key), but no database, no outbox and no consumer: the
subscriber (bench/floor_subscriber.py, served as our services are) answers SUCCESS and notes each event's
arrival. Latency is from the moment an event is ready to publish to its arrival at the subscriber.

Each run measures the floor at each rate, then our whole pipeline at the same rate
(`bench/event_pipeline.py`'s run: commit to the consumer's commit), so that the two figures meet the
same spell of this machine; the difference is what our code adds.

    make bench-floor            # scripts/devstack up postgres redis kafka daprd, then this
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import aiohttp
import httpx
import typer
from rich.console import Console
from rich.progress import Progress

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    cpu_seconds,
    fresh_postgres,
    fresh_topics,
    kafka_broker_pids,
    require_devstack,
    run_as_services_do,
    runs_table,
    speed_probe_ms,
    write_section,
)
from event_pipeline import (
    MIN_STEADY_EVENTS,
    STEADY_SECONDS,
    Options,
    latency_percentiles,
    one_run,
    spread_of,
)
from todo.dapr_local import API_TOKEN, LocalServers, Sidecar, render_resources, sidecar_ready, start_sidecar
from todo.platform.ports import free_port

console = Console()
HERE = Path(__file__).resolve().parent
TOPIC = "task-created"
CLOUDEVENTS_JSON = "application/cloudevents+json"


@dataclass(frozen=True)
class Side:
    """One app and its sidecar."""

    app: subprocess.Popen[bytes]
    app_port: int
    sidecar: Sidecar

    def stop(self) -> None:
        for process in (self.sidecar.process, self.app):
            process.terminate()
        for process in (self.sidecar.process, self.app):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def start_side(daprd: str, app_id: str, servers: LocalServers, workdir: Path) -> Side:
    app_port = free_port()
    log = (workdir / f"{app_id}.log").open("ab")
    app = subprocess.Popen([sys.executable, str(HERE / "floor_subscriber.py"), str(app_port)],
                           stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    ports = (free_port(), free_port(), free_port())
    resources = render_resources(workdir / "dapr" / app_id, servers)
    sidecar = start_sidecar(daprd, app_id=app_id, app_port=app_port, ports=ports, resources=resources,
                            log_file=workdir / f"{app_id}.daprd.log")  # fmt: skip
    return Side(app, app_port, sidecar)


def snapshot(task_id: str, user_id: str) -> dict[str, Any]:
    """A task-created event's data, shaped and sized as ours are."""
    now = datetime.now(UTC).isoformat()
    return {"id": task_id, "user_id": user_id, "title": "bench", "description": None, "priority": "medium",
            "tags": [], "due_date": None, "reminder_minutes": None, "completed": False, "completed_at": None,
            "recurring_task_id": None, "created_at": now, "updated_at": now, "version": 1}  # fmt: skip


class Publisher:
    """Events become ready every 10 ms; one bulk publish at a time takes all that are waiting."""

    def __init__(self, sidecar: Sidecar) -> None:
        self.sidecar = sidecar
        self.waiting: list[dict[str, Any]] = []
        self.ready = asyncio.Event()
        self.user_id = str(uuid.uuid4())

    def add(self, count: int) -> None:
        for _ in range(count):
            task_id = str(uuid.uuid4())
            event = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "bench/pipeline_floor",
                     "type": "todo.task.created.v1", "subject": task_id,
                     "time": datetime.now(UTC).isoformat(), "datacontenttype": "application/json",
                     "data": {**snapshot(task_id, self.user_id), "sent": time.time()}}  # fmt: skip
            self.waiting.append(event)
        self.ready.set()

    async def run(self, stop: asyncio.Event) -> None:
        headers = {"dapr-api-token": API_TOKEN}
        async with aiohttp.ClientSession(self.sidecar.url, headers=headers) as http:
            while not (stop.is_set() and not self.waiting):
                await self.ready.wait()
                self.ready.clear()
                batch, self.waiting = self.waiting, []
                if batch:
                    await self._publish(http, batch)

    async def _publish(self, http: aiohttp.ClientSession, batch: list[dict[str, Any]]) -> None:
        entries = [{"entryId": str(n), "event": e, "contentType": CLOUDEVENTS_JSON,
                    "metadata": {"partitionKey": e["subject"]}} for n, e in enumerate(batch)]  # fmt: skip
        async with http.post(f"/v1.0-alpha1/publish/bulk/pubsub/{TOPIC}", json=entries) as answer:
            if answer.status != 204:
                raise RuntimeError(f"the sidecar refused a publish: {answer.status} {await answer.text()}")


async def steady(publisher: Publisher, subscriber: Side, rate: int, seconds: int) -> dict[str, Any]:
    """`rate` / 100 events every 10 ms for `seconds`; each event's time from ready to arrival."""
    http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{subscriber.app_port}", timeout=10)
    await http.get("/latencies")  # forget the warm-up
    stop = asyncio.Event()
    sending = asyncio.create_task(publisher.run(stop))
    groups = _groups(publisher, subscriber)
    cpu_before, started = _cpu(groups), time.time()
    tick = time.perf_counter()
    with Progress(console=console, transient=True, refresh_per_second=2) as progress:
        bar = progress.add_task(f"floor, {rate:,} events/s", total=seconds * 100)
        for step in range(seconds * 100):
            publisher.add(rate // 100)
            tick += 0.01
            await asyncio.sleep(max(0.0, tick - time.perf_counter()))
            progress.update(bar, completed=step + 1)
    stop.set()
    publisher.ready.set()
    await sending
    expected, latencies = rate * seconds, list[float]()
    deadline = time.time() + 60
    while len(latencies) < expected and time.time() < deadline:
        latencies += (await http.get("/latencies")).json()
        await asyncio.sleep(0.2)
    elapsed = time.time() - started
    await http.aclose()
    cpu = {name: (used - cpu_before[name]) / elapsed for name, used in _cpu(groups).items()}
    return {**latency_percentiles(sorted(latencies), expected), "cpu": cpu}


def _groups(publisher: Publisher, subscriber: Side) -> dict[str, list[int]]:
    return {
        "benchmark (publisher)": [os.getpid()],
        "publishing sidecar": [publisher.sidecar.process.pid],
        "subscriber (answers only)": [subscriber.app.pid],
        "subscribing sidecar": [subscriber.sidecar.process.pid],
        "Kafka": kafka_broker_pids(),
    }


def _cpu(groups: dict[str, list[int]]) -> dict[str, float]:
    return {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in groups.items()}


async def floor_run(parts: tuple[str, str, str], rates: Sequence[int], seconds: int) -> dict[int, Any]:
    kafka, redis, daprd = parts
    await fresh_topics(kafka, 1)
    servers = LocalServers(kafka, redis)
    with tempfile.TemporaryDirectory() as tmp:
        publishing = start_side(daprd, "todo-backend", servers, Path(tmp))
        subscribing = start_side(daprd, "todo-notifications", servers, Path(tmp))
        try:
            await _ready(publishing, subscribing)
            publisher = Publisher(publishing.sidecar)
            await _warm(publisher, subscribing)
            return {
                rate: await steady(publisher, subscribing, rate, _seconds(rate, seconds)) for rate in rates
            }
        finally:
            publishing.stop()
            subscribing.stop()


async def _ready(*sides: Side) -> None:
    deadline = time.time() + 60
    while not all([await asyncio.to_thread(sidecar_ready, s.sidecar) for s in sides]):
        if time.time() > deadline:
            raise TimeoutError("the sidecars did not start: see their logs")
        await asyncio.sleep(0.1)


async def _warm(publisher: Publisher, subscriber: Side) -> None:
    """One event through, so that topics, partitions and the consumer group are in place."""
    stop = asyncio.Event()
    stop.set()
    publisher.add(1)
    await publisher.run(stop)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{subscriber.app_port}") as http:
        deadline = time.time() + 60
        while not (await http.get("/latencies")).json():
            if time.time() > deadline:
                raise TimeoutError("the first event did not arrive: see the sidecars' logs")
            await asyncio.sleep(0.1)


def _seconds(rate: int, shortest: int) -> int:
    return max(shortest, -(-MIN_STEADY_EVENTS // rate))


def main(
    rates: Annotated[str, typer.Option(help="Steady rates (events/s, multiples of 100)")] = "100,1000",
    seconds: Annotated[
        int, typer.Option(help="Shortest steady run (6,000 events at least)")
    ] = STEADY_SECONDS,
    runs: Annotated[int, typer.Option(min=1, help="Repeats, each from scratch")] = 3,
    record: Annotated[bool, typer.Option(help="Write docs/benchmarks.md")] = True,
) -> None:
    require_devstack("bench-floor")
    steady_rates = [int(r) for r in rates.split(",")]
    if any(r <= 0 or r % 100 for r in steady_rates):
        raise typer.BadParameter("rates are positive multiples of 100 (events are written every 10 ms)")
    parts = (os.environ["TODO_TEST_KAFKA"], os.environ["TODO_TEST_REDIS"], os.environ["TODO_TEST_DAPRD"])
    ours_opts = Options(
        events=500, seconds=seconds, rates=steady_rates, whole_tasks=False, partitions=1, runs=1
    )
    results = []
    for run in range(1, runs + 1):
        console.print(f"run {run} of {runs}: the floor")
        before = speed_probe_ms()
        floor = run_as_services_do(floor_run(parts, steady_rates, seconds))
        console.print(f"run {run} of {runs}: our pipeline")
        url = asyncio.run(fresh_postgres(os.environ["TODO_DEVSTACK_POSTGRES_URL"], "todo_bench_pipeline"))
        ours = run_as_services_do(one_run(url, parts, ours_opts))["latency"]
        results.append({"floor": floor, "ours": ours, "probe_ms": (before, speed_probe_ms())})
    command = f"bench/pipeline_floor.py --rates {rates} --seconds {seconds}" + (
        f" --runs {runs}" if runs != 3 else ""
    )
    lines = report(results, steady_rates, command)
    console.print("\n".join(lines))
    if record:
        write_section("pipeline-floor", "\n".join(lines))
        console.print("[green]recorded in docs/benchmarks.md[/green]")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def report(results: list[dict[str, Any]], rates: Sequence[int], command: str) -> list[str]:
    lines = [
        "## The floor under the event pipeline: Dapr and Kafka alone (`bench/pipeline_floor.py`)",
        "",
        f"Command: `{command}` (`make bench-floor`). Each run measures, one after the other on the same "
        "spell of this machine: the floor (the same two daprd 1.18 sidecars, resource files, Kafka broker "
        "and traffic shape as `make bench-pipeline`, with an app behind the subscribing sidecar that only "
        "answers; latency from an event ready to publish to its arrival) and then our whole pipeline at "
        "the same rate (commit to the consumer's commit). The difference is what our code adds.",
        "",
        *runs_table(len(results)),
        "| this machine's speed (`speed_probe_ms` before / after, lower is faster) | "
        + " | ".join(f"{r['probe_ms'][0]:.0f} / {r['probe_ms'][1]:.0f} ms" for r in results)
        + " |",
    ]
    for rate in rates:
        for side, label in (("floor", "floor: Dapr and Kafka alone"), ("ours", "our pipeline")):
            cells = [f"p50 {_ms(r[side][rate]['p50'])}, **p99 {_ms(r[side][rate]['p99'])}**, "
                     f"max {_ms(r[side][rate]['max'])} ms" for r in results]  # fmt: skip
            spread = spread_of([r[side][rate]["p99"] for r in results])
            row = f"{rate:,} events/s, {label} (p99s' spread {spread:.0%})"
            lines.append(f"| {row} | " + " | ".join(cells) + " |")
        added = [f"{_ms(r['ours'][rate]['p99'] - r['floor'][rate]['p99'])} ms" for r in results]
        lines.append(f"| {rate:,} events/s, p99 our code adds | " + " | ".join(added) + " |")
    lines += [
        "",
        "CPU of the floor's parts, share of one core (median of the runs; the machine has two):",
        "",
    ]
    lines += ["| process | " + " | ".join(f"{r:,}/s" for r in rates) + " |", "|---|" + "---|" * len(rates)]
    for name in results[0]["floor"][rates[0]]["cpu"]:
        shares = [statistics.median(r["floor"][rate]["cpu"][name] for r in results) for rate in rates]
        lines.append(f"| {name} | " + " | ".join(f"{s:.0%}" for s in shares) + " |")
    return lines


if __name__ == "__main__":
    typer.run(main)
