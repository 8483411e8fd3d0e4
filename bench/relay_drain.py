"""Outbox pipeline throughput: queue N task events with the relay stopped, then time the relay (with the
consumers of task-created behind the in-process transport) draining them. Prints the figures and records them.

    make bench-relay                 # 5,000 events on SQLite and on the devstack PostgreSQL
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import fresh_postgres, write_section
from todo.auth.models import User
from todo.bootstrap import build_container
from todo.config import Settings
from todo.migrate import upgrade
from todo.projects.inbox import add_inbox
from todo.tasks import service as tasks
from todo.tasks.schemas import TaskCreate

console = Console()


async def drain(url: str, events: int) -> tuple[float, int]:
    await asyncio.to_thread(upgrade, url)
    container = build_container(Settings(database_url=url, jwt_secret="bench-" + "x" * 40))  # type: ignore[arg-type]
    now = datetime.now(UTC)
    async with container.sessions() as session, session.begin():
        user = User(id=uuid.uuid4(), email="relay@example.com", password_hash="-", display_name="relay",
                    timezone="UTC", created_at=now, updated_at=now)  # fmt: skip
        session.add(user)
        await session.flush()
        add_inbox(session, user, now)
        for n in range(events):
            await tasks.create(session, user=user, data=TaskCreate(title=f"queued {n}"), now=now)
    started, published = time.perf_counter(), 0
    while batch := await container.relay.drain():
        published += batch
    elapsed = time.perf_counter() - started
    await container.stop()
    return elapsed, published


def main(
    events: Annotated[int, typer.Option(help="Events to queue and drain")] = 5000,
    record: Annotated[bool, typer.Option(help="Write docs/benchmarks.md")] = True,
) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        targets = {"SQLite (file, WAL)": f"sqlite+aiosqlite:///{tmp}/relay.db"}
        admin = os.environ.get("TODO_DEVSTACK_POSTGRES_URL")
        if admin:
            targets["PostgreSQL 15 (devstack)"] = asyncio.run(fresh_postgres(admin, "todo_bench_relay"))
        for name, url in targets.items():
            elapsed, published = asyncio.run(drain(url, events))
            rows.append(f"| {name} | {published} | {elapsed:.2f} | {published / elapsed:,.0f} |")
            console.print(rows[-1])
    body = "\n".join(
        [
            "## Outbox pipeline (`bench/relay_drain.py`)",
            "",
            f"Command: `make bench-relay` (= `bench/relay_drain.py --events {events}`). {events} "
            "task-created events are queued in the outbox with the relay stopped; then the relay publishes "
            "them in batches of 500 through the in-process transport to the consumers of task-created "
            "(analytics and the reminder schedule: idempotency record and row per event, one transaction "
            "per consumer and batch) and marks them published.",
            "",
            "| database | events | seconds | events/s, outbox to consumed |",
            "|---|---|---|---|",
            *rows,
        ]
    )
    if record:
        write_section("relay-drain", body)
        console.print("[green]recorded in docs/benchmarks.md[/green]")


if __name__ == "__main__":
    typer.run(main)
