"""API load test: N simulated users with think time against `todo serve api` on PostgreSQL, then a
saturation run of task creation with wrk. Prints the figures and records them in docs/benchmarks.md.

    make bench                      # defaults: 1,000 users for 60 s, 2 API workers
    .venv/bin/python bench/api_load.py --users 200 --duration 20
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import aiohttp
import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import fresh_postgres, write_section
from todo.auth.models import User
from todo.auth.security import hash_password, issue_token
from todo.events.models import TaskEvent
from todo.migrate import upgrade
from todo.tasks.models import Task

ROOT = Path(__file__).resolve().parent.parent
TODO = str(Path(sys.executable).with_name("todo"))
console = Console()
OPERATIONS = {"list": 0.5, "create": 0.2, "update": 0.15, "complete": 0.15}
SEED_TASKS_PER_USER = 10


@dataclass
class SimUser:
    token: str
    open_tasks: list[str] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Recorder:
    """Latencies per operation; samples from the warm-up (pools filling, caches compiling) are left out."""

    record_after: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, op: str, seconds: float, ok: bool) -> None:
        if time.monotonic() - seconds < self.record_after:
            return
        self.latencies[op].append(seconds)
        if not ok:
            self.errors[op] += 1


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def prepare_database(admin_url: str, name: str) -> str:
    url = await fresh_postgres(admin_url, name)
    await asyncio.to_thread(upgrade, url)
    return url


async def seed(url: str, users: int, secret: str) -> list[SimUser]:
    """Users and their first tasks straight into the database: registering 1,000 users through argon2
    would measure password hashing, not the API."""
    engine = create_async_engine(url)
    password_hash = hash_password("bench-password")
    now = datetime.now(UTC)
    sims: list[SimUser] = []
    user_rows, task_rows = [], []
    for n in range(users):
        user_id = uuid.uuid4()
        user_rows.append(
            {
                "id": user_id,
                "email": f"bench{n}@example.com",
                "password_hash": password_hash,
                "display_name": f"bench {n}",
                "timezone": "UTC",
                "created_at": now,
                "updated_at": now,
            }
        )
        sim = SimUser(token=issue_token(user_id, secret=secret, now=now, lifetime=timedelta(hours=6)))
        for k in range(SEED_TASKS_PER_USER):
            task_id = uuid.uuid4()
            due = now + timedelta(hours=random.randint(-48, 240)) if k % 3 else None
            task_rows.append(
                {
                    "id": task_id,
                    "user_id": user_id,
                    "title": f"seed {k}",
                    "priority": k % 3 + 1,
                    "due_date": due,
                    "completed": False,
                    "notified": False,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            sim.open_tasks.append(str(task_id))
        sims.append(sim)
    async with engine.begin() as conn:
        await conn.execute(insert(User), user_rows)
        await conn.execute(insert(Task), task_rows)
    await engine.dispose()
    return sims


def start_calibration(url: str, secret: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    """bench/calibration_api.py with as many workers as our API, on the same database."""
    env = {**os.environ, "CALIBRATION_DATABASE_URL": url.replace("postgresql+asyncpg://", "postgresql://"),
           "CALIBRATION_JWT_SECRET": secret}  # fmt: skip
    command = [sys.executable, "-m", "uvicorn", "calibration_api:app", "--app-dir", str(ROOT / "bench"),
               "--port", str(port), "--workers", str(workers), "--log-level", "warning"]  # fmt: skip
    log = open(ROOT / ".devstack" / "bench-calibration.log", "wb")  # noqa: SIM115 (the child writes it)
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)


def start_api(url: str, secret: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TODO_DATABASE_URL": url,
        "TODO_JWT_SECRET": secret,
        "TODO_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [TODO, "serve", "api", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(ROOT / ".devstack" / "bench-api.log", "wb"),  # read it when a run looks wrong
    )


async def wait_ready(base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as http:
        for _ in range(300):
            try:
                if (await http.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the API did not become ready")


async def one_operation(http: aiohttp.ClientSession, base: str, user: SimUser, recorder: Recorder) -> None:
    op = random.choices(list(OPERATIONS), weights=list(OPERATIONS.values()))[0]
    if op in ("update", "complete") and not user.open_tasks:
        op = "create"
    started = time.perf_counter()
    if op == "list":
        request = http.get(f"{base}/api/tasks?status=open&sort=due_date&page_size=20", headers=user.headers)
    elif op == "create":
        due = (datetime.now(UTC) + timedelta(hours=random.randint(1, 96))).isoformat()
        body = {"title": "new task", "priority": random.randint(1, 3), "tags": ["bench"], "due_date": due}
        request = http.post(f"{base}/api/tasks", json=body, headers=user.headers)
    elif op == "update":
        body = {"priority": random.randint(1, 3), "title": f"edited {random.randint(0, 999)}"}
        request = http.patch(
            f"{base}/api/tasks/{random.choice(user.open_tasks)}", json=body, headers=user.headers
        )
    else:
        task_id = user.open_tasks.pop(random.randrange(len(user.open_tasks)))
        request = http.post(f"{base}/api/tasks/{task_id}/complete", headers=user.headers)
    async with request as response:
        payload = await response.read()
        status = response.status
    recorder.add(op, time.perf_counter() - started, status < 400)
    if op == "create" and status == 201:
        user.open_tasks.append(json.loads(payload)["id"])


async def simulate(
    base: str, users: list[SimUser], duration: float, think: tuple[float, float], warmup: float
) -> Recorder:
    recorder = Recorder(record_after=time.monotonic() + warmup)
    deadline = time.monotonic() + warmup + duration
    connector = aiohttp.TCPConnector(limit=512)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:

        async def user_loop(user: SimUser) -> None:
            await asyncio.sleep(random.uniform(0, think[1]))  # users arrive spread out, not all at once
            while time.monotonic() < deadline:
                try:
                    await one_operation(http, base, user, recorder)
                except aiohttp.ClientError:
                    recorder.errors["transport"] += 1
                await asyncio.sleep(random.uniform(*think))

        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[done]} requests"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console) as progress:
            bar = progress.add_task(f"{len(users)} users", total=warmup + duration, done=0)
            loops = [asyncio.create_task(user_loop(u)) for u in users]
            started = time.monotonic()
            while not all(t.done() for t in loops):
                await asyncio.sleep(0.5)
                done = sum(len(v) for v in recorder.latencies.values())
                progress.update(bar, completed=min(warmup + duration, time.monotonic() - started), done=done)
    return recorder


def saturate(base: str, token: str, seconds: int, connections: int) -> dict[str, float]:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: apt-get install wrk")
    env = {**os.environ, "TODO_BENCH_TOKEN": token}
    command = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(ROOT / "bench/create_task.lua"),
        base,
    ]
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    console.print(output)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    latencies = {
        m.group(1): _ms(m.group(2), m.group(3))
        for m in re.finditer(r"\s+(50|90|99)%\s+([\d.]+)(us|ms|s)", output)
    }
    return {
        "rate": rate,
        "errors": float(non_2xx.group(1)) if non_2xx else 0.0,
        "p50": latencies.get("50", 0),
        "p90": latencies.get("90", 0),
        "p99": latencies.get("99", 0),
    }


def ceiling(base: str, token: str, path: str, seconds: int, connections: int) -> float:
    """Requests/s for one GET under wrk: the floor cost of the framework, auth and one query."""
    command = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "-H",
        f"Authorization: Bearer {token}",
        base + path,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"{path} answered errors under load:\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


async def drain_time(url: str, started: float, give_up_after: float = 300) -> tuple[float, int]:
    """Seconds from the start of the saturation run until the outbox is empty, and events written."""
    engine = create_async_engine(url)
    try:
        while True:
            async with engine.connect() as conn:
                backlog = await conn.scalar(select(func.count()).where(TaskEvent.published_at.is_(None)))
                total = await conn.scalar(select(func.count()).select_from(TaskEvent))
            if backlog == 0 or time.monotonic() - started > give_up_after:
                return time.monotonic() - started, int(total or 0)
            await asyncio.sleep(0.2)
    finally:
        await engine.dispose()


def main(
    users: Annotated[int, typer.Option(help="Simulated users")] = 1000,
    duration: Annotated[float, typer.Option(help="Seconds of mixed load")] = 60,
    think_min: Annotated[float, typer.Option(help="Shortest think time, s")] = 5.0,
    think_max: Annotated[float, typer.Option(help="Longest think time, s")] = 15.0,
    stress: Annotated[bool, typer.Option(help="Also run the same users with 1-3 s think time")] = True,
    warmup: Annotated[float, typer.Option(help="Seconds of load before recording")] = 5.0,
    workers: Annotated[int, typer.Option(help="API worker processes")] = 2,
    saturation_seconds: Annotated[int, typer.Option(help="Seconds of the creation saturation run")] = 20,
    connections: Annotated[int, typer.Option(help="Concurrent connections in the saturation run")] = 64,
    port: Annotated[int, typer.Option()] = 8765,
    record: Annotated[bool, typer.Option(help="Write docs/benchmarks.md")] = True,
) -> None:
    admin_url = os.environ.get("TODO_DEVSTACK_POSTGRES_URL")
    if not admin_url:
        raise typer.BadParameter("TODO_DEVSTACK_POSTGRES_URL is not set; run through `make bench`")
    secret = secrets.token_urlsafe(48)
    url = asyncio.run(prepare_database(admin_url, "todo_bench"))
    sims = asyncio.run(seed(url, users, secret))
    base = f"http://127.0.0.1:{port}"
    api = start_api(url, secret, port, workers)
    try:
        asyncio.run(wait_ready(base))
        runs: list[tuple[tuple[float, float], Recorder]] = []
        for think in [(think_min, think_max)] + ([(1.0, 3.0)] if stress else []):
            console.print(
                f"[bold]mixed load[/bold]: {users} users, think {think[0]}-{think[1]} s, {duration:.0f} s"
            )
            runs.append((think, asyncio.run(simulate(base, sims, duration, think, warmup))))
            asyncio.run(drain_time(url, time.monotonic()))
        console.print(
            f"[bold]saturation[/bold]: task creation, {connections} connections, {saturation_seconds} s"
        )
        before = asyncio.run(_event_count(url))
        started = time.monotonic()
        saturation = saturate(base, sims[0].token, saturation_seconds, connections)
        drained_after, total_events = asyncio.run(drain_time(url, started))
        for path in ("/healthz", "/api/me"):
            saturation[path] = ceiling(base, sims[1].token, path, 10, connections)
    finally:
        api.terminate()
        api.wait(timeout=30)
    console.print("[bold]calibration[/bold]: the same creations against bench/calibration_api.py")
    calibration = start_calibration(url, secret, port + 1, workers)
    try:
        asyncio.run(wait_ready(f"http://127.0.0.1:{port + 1}"))
        saturation["calibration"] = saturate(
            f"http://127.0.0.1:{port + 1}", sims[0].token, saturation_seconds, connections
        )["rate"]
    finally:
        calibration.terminate()
        calibration.wait(timeout=30)
    created = total_events - before
    pipeline_rate = created / drained_after if drained_after else 0.0
    body = render(
        runs,
        saturation,
        users=users,
        duration=duration,
        warmup=warmup,
        workers=workers,
        connections=connections,
        seconds=saturation_seconds,
        pipeline_rate=pipeline_rate,
        drained_after=drained_after,
        created=created,
    )
    console.print(body)
    if record:
        write_section("api-load", body)
        console.print("[green]recorded in docs/benchmarks.md[/green]")


async def _event_count(url: str) -> int:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        count = await conn.scalar(select(func.count()).select_from(TaskEvent))
    await engine.dispose()
    return int(count or 0)


def render(
    runs: list[tuple[tuple[float, float], Recorder]], saturation: dict[str, float], **run: object
) -> str:
    duration = float(run["duration"])  # type: ignore[arg-type]
    lines = [
        "## API load test (`bench/api_load.py`)",
        "",
        f"Command: `make bench` (= `bench/api_load.py --users {run['users']} --duration {duration:.0f} "
        f"--warmup {run['warmup']:.0f} --workers {run['workers']}`), against `todo serve api --workers "
        f"{run['workers']}` on the devstack PostgreSQL 15 (same machine, durable commits), with the outbox "
        "relay and the analytics consumer running in the API processes, and the load generator (Python, "
        "aiohttp) and wrk on the same 2 cores. Users start with 10 tasks each; the client measures latency.",
    ]
    for (think_min, think_max), recorder in runs:
        total = sum(len(v) for v in recorder.latencies.values())
        lines += [
            "",
            f"### Mixed load: {run['users']} users, think time {think_min:g}-{think_max:g} s "
            f"({total / duration:.0f} requests/s)",
            "",
            "| operation | share | requests | errors | p50 ms | p95 ms | p99 ms |",
            "|---|---|---|---|---|---|---|",
        ]
        for op, share in OPERATIONS.items():
            values = recorder.latencies.get(op, [])
            p50, p95, p99 = (percentile(values, q) * 1000 for q in (0.5, 0.95, 0.99))
            errors = recorder.errors.get(op, 0)
            lines.append(
                f"| {op} | {share:.0%} | {len(values)} | {errors} | {p50:.1f} | {p95:.1f} | {p99:.1f} |"
            )
    sat = saturation
    lines += [
        "",
        f"### Saturation: task creation, {run['connections']} connections for {run['seconds']} s (wrk)",
        "",
        "| accepted creations/s | non-2xx | p50 ms | p90 ms | p99 ms | outbox events/s, commit to consumed |",
        "|---|---|---|---|---|---|",
        f"| {sat['rate']:.0f} | {sat['errors']:.0f} | {sat['p50']:.1f} | {sat['p90']:.1f} | {sat['p99']:.1f} "
        f"| {run['pipeline_rate']:.0f} ({run['created']} events; outbox empty {run['drained_after']:.1f} s "
        "after the run began) |",
        "",
        "For scale, the same workers and wrk settings on requests that write nothing: "
        f"`GET /healthz` (no auth, no database) {sat['/healthz']:.0f}/s; "
        f"`GET /api/me` (token check, the user row from the per-process cache) {sat['/api/me']:.0f}/s.",
        "",
        *_calibrated(runs, sat),
    ]
    return "\n".join(lines)


def _calibrated(runs: list[tuple[tuple[float, float], Recorder]], sat: dict[str, float]) -> list[str]:
    """Our figures against their floors, measured in the same run (issue 13's targets)."""
    creates, me = sat["rate"] / sat["calibration"], sat["/api/me"] / sat["/healthz"]
    worst_p99 = max(percentile(v, 0.99) for v in runs[0][1].latencies.values() if v) * 1000
    verdict = {True: "met", False: "**not met**"}
    return [
        "| against the floor of the stack | ours | floor | ratio | target |",
        "|---|---|---|---|---|",
        f"| creations/s vs bench/calibration_api.py (FastAPI + asyncpg, the same writes) | {sat['rate']:.0f} "
        f"| {sat['calibration']:.0f} | {creates:.2f} | ≥ 0.6: {verdict[creates >= 0.6]} |",
        f"| `GET /api/me` vs `GET /healthz` | {sat['/api/me']:.0f} | {sat['/healthz']:.0f} | {me:.2f} "
        f"| ≥ 0.5: {verdict[me >= 0.5]} |",
        f"| mixed load, slowest operation's p99 (ms), first run | {worst_p99:.1f} | | | < 50: "
        f"{verdict[worst_p99 < 50]} |",
    ]


if __name__ == "__main__":
    typer.run(main)
