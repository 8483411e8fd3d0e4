"""Reminder timeliness: how late reminders go out, and how long a burst takes to reach the inbox.

Two loads, each on a fresh database with the all-in-one's workers running (reminder clock, relay,
in-process transport, inbox consumer) on the real clock:
  burst   10,000 reminders due at the same second;
  spread  10,000 reminders due evenly over one minute.
Lateness is measured twice: by the clock (when it sent the reminder, minus its time) and as a user sees it
(when the in-app notification became visible to a query, minus the reminder's time; the k-th notification
to appear is matched with the k-th reminder due, sampled every 20 ms).

    make bench-reminders            # both loads on the devstack PostgreSQL and on SQLite
"""

from __future__ import annotations

import asyncio
import bisect
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import fresh_postgres, write_section
from todo.auth.models import User
from todo.bootstrap import Container, build_container
from todo.config import Settings
from todo.migrate import upgrade
from todo.notifications.models import Notification, Reminder
from todo.projects.inbox import add_inbox
from todo.tasks.models import Task

console = Console()
LEAD = timedelta(seconds=8)  # time for the service to start and settle before the first reminder


@dataclass(frozen=True)
class Result:
    load: str
    database: str
    clock_lateness: list[float]  # seconds, one per reminder
    visible_lateness: list[float]
    all_visible_after: float  # seconds from the last reminder's time until the inbox held them all


async def seed(container: Container, fire_times: list[datetime]) -> None:
    now = datetime.now(UTC)
    async with container.sessions() as session, session.begin():
        user = User(id=uuid.uuid4(), email="bench@example.com", password_hash="-", timezone="UTC",
                    created_at=now, updated_at=now)  # fmt: skip
        session.add(user)
        add_inbox(session, user, now)
        for n, fire_at in enumerate(fire_times):
            task = Task(id=uuid.uuid4(), user_id=user.id, project_id=user.id, title=f"reminder {n}",
                        due_date=fire_at, created_at=now, updated_at=now)  # fmt: skip
            session.add(task)
            reminder = Reminder(task_id=task.id, user_id=user.id, kind="due", due_at=fire_at, fire_at=fire_at,
                                state="pending", task_version=1, created_at=now)  # fmt: skip
            session.add(reminder)


async def watch_inbox(container: Container, expected: int, progress: Progress) -> list[tuple[float, int]]:
    """(wall time, notifications visible) every 20 ms until all are there."""
    samples: list[tuple[float, int]] = []
    bar = progress.add_task("in-app notifications", total=expected)
    deadline = time.time() + 600
    while time.time() < deadline:
        async with container.sessions() as session:
            seen = await session.scalar(select(func.count()).select_from(Notification)) or 0
        samples.append((time.time(), seen))
        progress.update(bar, completed=seen)
        if seen >= expected:
            return samples
        await asyncio.sleep(0.02)
    raise RuntimeError(f"only {samples[-1][1]} of {expected} notifications after 10 minutes")


async def run(url: str, database: str, load: str, fire_times: list[datetime]) -> Result:
    await asyncio.to_thread(upgrade, url)
    settings = Settings(database_url=url, jwt_secret="bench-" + "x" * 40, log_level="WARNING")  # type: ignore[arg-type]
    container = build_container(settings)
    await seed(container, fire_times)
    await container.start()
    try:
        with Progress(console=console, transient=True) as progress:
            samples = await watch_inbox(container, len(fire_times), progress)
        async with container.sessions() as session:
            sent = (await session.execute(select(Reminder.fire_at, Reminder.sent_at))).all()
    finally:
        await container.stop()
    clock = sorted((s - f).total_seconds() for f, s in sent)
    times, counts = [t for t, _ in samples], [c for _, c in samples]
    visible = [
        times[bisect.bisect_left(counts, k + 1)] - fire.timestamp()
        for k, fire in enumerate(sorted(fire_times))
    ]
    return Result(load, database, clock, sorted(visible), times[-1] - max(fire_times).timestamp())


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))]


def loads(count: int) -> dict[str, list[datetime]]:
    start = datetime.now(UTC) + LEAD
    return {
        "burst": [start] * count,
        "spread": [start + timedelta(seconds=60 * n / count) for n in range(count)],
    }


def main(
    count: Annotated[int, typer.Option(help="Reminders per load")] = 10_000,
    record: Annotated[bool, typer.Option(help="Write docs/benchmarks.md")] = True,
) -> None:
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        admin = os.environ.get("TODO_DEVSTACK_POSTGRES_URL")
        for load in ("burst", "spread"):
            targets = {"SQLite (all-in-one)": f"sqlite+aiosqlite:///{tmp}/{load}.db"}
            if admin:
                targets["PostgreSQL 15"] = asyncio.run(fresh_postgres(admin, f"todo_bench_{load}"))
            for database, url in targets.items():
                result = asyncio.run(run(url, database, load, loads(count)[load]))
                results.append(result)
                console.print(row(result))
    body = "\n".join(
        [
            "## Reminder timeliness (`bench/reminder_timeliness.py`)",
            "",
            f"Command: `make bench-reminders` (= `bench/reminder_timeliness.py --count {count}`). "
            f"{count:,} reminders due at the same second (burst) and {count:,} due evenly over one minute "
            "(spread), each load on a fresh database with the all-in-one's workers on the real clock. "
            "*Clock* lateness is when the reminder clock sent a reminder minus its time; *in-app* lateness "
            "is when its notification became visible to a query minus its time (20 ms sampling). "
            "Targets: spread p99 under 1 s; the burst fully in the inbox within 10 s.",
            "",
            "| load | database | clock p50 / p99 / max (s) | in-app p50 / p99 / max (s) "
            "| all in the inbox, s after the last reminder's time |",
            "|---|---|---|---|---|",
            *(row(r) for r in results),
        ]
    )
    if record:
        write_section("reminder-timeliness", body)
        console.print("[green]recorded in docs/benchmarks.md[/green]")


def row(r: Result) -> str:
    def three(values: list[float]) -> str:
        return f"{statistics.median(values):.3f} / {pct(values, 0.99):.3f} / {values[-1]:.3f}"

    return (
        f"| {r.load} | {r.database} | {three(r.clock_lateness)} | {three(r.visible_lateness)} "
        f"| {r.all_visible_after:.2f} |"
    )


if __name__ == "__main__":
    typer.run(main)
