"""The event pipeline on the real cluster (scripts/cluster): commit to consumer through the in-cluster relay,
Dapr sidecars with mTLS from Sentry, three Kafka brokers (replication 3, min.insync.replicas 2) and the two
notifications pods.

This process commits task-created events into the cluster's outbox at steady rates (written every 10 ms,
as bench/event_pipeline.py does on one machine); the backend pod that leads the relay publishes them
through its sidecar; the analytics consumer in a notifications pod applies them. Latency is from each
event's commit to the commit of the consumer's transaction that applied it (PostgreSQL's commit
timestamps, the cluster's PostgreSQL runs with track_commit_timestamp).

    make bench-cluster          # scripts/cluster all first, then this
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import runs_table, speed_probe_ms, write_section
from event_pipeline import (
    TARGET_P99,
    Writer,
    bench_user,
    consumer_commits,
    latency_percentiles,
    require_commit_timestamps,
    write_steadily,
)
from todo.bootstrap import build_container
from todo.config import Settings

console = Console()
CLUSTER_ENV = ("TODO_CLUSTER_KUBECTL", "TODO_CLUSTER_KUBECONFIG", "TODO_CLUSTER_NAMESPACE")


def kubectl(*args: str) -> str:
    env = os.environ
    command = [env["TODO_CLUSTER_KUBECTL"], "--kubeconfig", env["TODO_CLUSTER_KUBECONFIG"],
               "--namespace", env["TODO_CLUSTER_NAMESPACE"], *args]  # fmt: skip
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def cluster_database_url() -> str:
    """The app's own database URL (its Secret), with the Service's name replaced by its cluster address,
    which this machine reaches."""
    encoded = kubectl("get", "secret", "todo-secrets", "-o", "jsonpath={.data.database-url}")
    url = make_url(base64.b64decode(encoded).decode())
    address = kubectl("get", "service", str(url.host).split(".")[0], "-o", "jsonpath={.spec.clusterIP}")
    return url.set(host=address).render_as_string(hide_password=False)


async def steady(writer: Writer, rate: int, seconds: int) -> dict[str, Any]:
    ids = await write_steadily(writer, rate, seconds, f"{rate:,} events/s through the cluster")
    deadline = time.time() + 120
    while len(seen := await consumer_commits(writer.container, ids)) < len(ids) and time.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.5)
    return latency_percentiles(sorted(seen[i] - writer.committed[i] for i in ids if i in seen), len(ids))


async def one_run(url: str, rates: list[int], seconds: int) -> dict[int, Any]:
    settings = Settings(database_url=url, jwt_secret="bench-" + "x" * 40, log_level="WARNING", db_pool_size=2)  # type: ignore[arg-type]
    db = build_container(settings)  # sessions only: nothing of it starts
    try:
        await require_commit_timestamps(db)
        writer = Writer(db, await bench_user(db), whole_tasks=False)
        first = await writer.write(1)  # through the task service: takes the template
        deadline = time.time() + 120
        while not await consumer_commits(db, first):
            if time.time() > deadline:
                raise RuntimeError("the first event did not reach the consumer: is the cluster up?")
            await asyncio.sleep(0.2)
        return {rate: await steady(writer, rate, max(seconds, -(-6_000 // rate))) for rate in rates}
    finally:
        await db.engine.dispose()


def main(
    rates: Annotated[str, typer.Option(help="Steady rates (events/s, multiples of 100)")] = "100,1000",
    seconds: Annotated[int, typer.Option(help="Shortest steady run (6,000 events at least)")] = 20,
    runs: Annotated[int, typer.Option(min=1, help="Repeats")] = 3,
    record: Annotated[bool, typer.Option(help="Write docs/benchmarks.md")] = True,
) -> None:
    if missing := [name for name in CLUSTER_ENV if not os.environ.get(name)]:
        raise typer.BadParameter(f"{', '.join(missing)} not set: run through `make bench-cluster`")
    steady_rates = [int(r) for r in rates.split(",")]
    url = cluster_database_url()
    results = []
    for run in range(1, runs + 1):
        console.print(f"run {run} of {runs}")
        before = speed_probe_ms()
        results.append({"latency": asyncio.run(one_run(url, steady_rates, seconds)), "probe": before})
    lines = report(results, steady_rates, f"bench/cluster_pipeline.py --rates {rates} --seconds {seconds}"
                   + (f" --runs {runs}" if runs != 3 else ""))  # fmt: skip
    console.print("\n".join(lines))
    if record:
        write_section("cluster-pipeline", "\n".join(lines))
        console.print("[green]recorded in docs/benchmarks.md[/green]")


def report(results: list[dict[str, Any]], rates: list[int], command: str) -> list[str]:
    found = json.loads(kubectl("get", "pods", "-l", "app.kubernetes.io/name=todo", "-o", "json"))["items"]
    pods = [p for p in found if p["status"]["phase"] == "Running"]
    lines = [
        "## Event pipeline on the cluster (`bench/cluster_pipeline.py`)",
        "",
        f"Command: `{command}` (`make bench-cluster`, after `make cluster`). The one-machine Kubernetes of "
        f"`scripts/cluster` on this machine's two cores, all of it at once: our chart ({len(pods)} pods, "
        "each with its Dapr 1.18 sidecar holding a certificate from Sentry, mTLS between them), Dapr's "
        "control plane in high availability, three Kafka brokers (replication 3, min.insync.replicas 2, "
        "3 partitions per topic), PostgreSQL, Redis. This process commits task-created events into the "
        "cluster's outbox every 10 ms; latency is from each commit to the commit of the analytics "
        "consumer's transaction that applied it (PostgreSQL's commit timestamps).",
        "",
        *runs_table(len(results)),
        "| this machine's speed before the run (`speed_probe_ms`) | "
        + " | ".join(f"{r['probe']:.0f} ms" for r in results)
        + " |",
    ]
    for rate in rates:
        cells = [_cell(r["latency"][rate]) for r in results]
        target = f" (target p99 < {TARGET_P99[rate] * 1000:.0f} ms)" if rate in TARGET_P99 else ""
        lines.append(
            f"| {rate:,} events/s, commit to consumer's commit{target} | " + " | ".join(cells) + " |"
        )
    return lines


def _cell(latency: dict[str, float]) -> str:
    p50, p99, most = (round(latency[k] * 1000) for k in ("p50", "p99", "max"))
    return f"p50 {p50} ms, **p99 {p99} ms**, max {most} ms"


if __name__ == "__main__":
    typer.run(main)
