"""`make bench` seeds its users straight into the database, and its calibration service writes tasks with
plain SQL; both must stay valid as the schema grows (they broke on columns that became NOT NULL, and no
test ran them)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from tests.conftest import SECRET, ContainerFactory
from todo.apps import create_api_app

pytestmark = pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


def bench_module(name: str) -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "bench" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


async def test_the_api_benchmarks_seeded_users_are_served_their_tasks_in_their_inbox(
    make_container: ContainerFactory, database_url: str
) -> None:
    container = await make_container(start=False)
    bench = bench_module("api_load")
    users = await bench.seed(database_url, 2, SECRET)
    transport = httpx.ASGITransport(app=create_api_app(container, manage_lifecycle=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        for user in users:
            auth = {"Authorization": f"Bearer {user.token}"}
            tasks = (await http.get("/api/tasks", params={"limit": 100}, headers=auth)).json()
            projects = (await http.get("/api/projects", headers=auth)).json()
            assert sorted(t["id"] for t in tasks["items"]) == sorted(user.open_tasks)
            assert len(user.open_tasks) == bench.SEED_TASKS_PER_USER
            [own] = projects if isinstance(projects, list) else projects["items"]
            assert own["name"] == "Inbox"
            assert {t["project_id"] for t in tasks["items"]} == {own["id"]}


async def test_the_calibration_service_creates_a_task_our_api_then_serves(
    make_container: ContainerFactory, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    container = await make_container(start=False)
    [user] = await bench_module("api_load").seed(database_url, 1, SECRET)
    monkeypatch.setenv("CALIBRATION_DATABASE_URL", database_url.replace("postgresql+asyncpg", "postgresql"))
    monkeypatch.setenv("CALIBRATION_JWT_SECRET", SECRET)
    calibration = bench_module("calibration_api")
    auth = {"Authorization": f"Bearer {user.token}"}
    async with (
        calibration.lifespan(calibration.app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=calibration.app), base_url="http://calibration"
        ) as http,
    ):
        made = await http.post("/api/tasks", json={"title": "calibrated", "tags": ["x"]}, headers=auth)
    assert made.status_code == 201, made.text
    transport = httpx.ASGITransport(app=create_api_app(container, manage_lifecycle=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        task = (await http.get(f"/api/tasks/{made.json()['id']}", headers=auth)).json()
    assert (task["title"], task["tags"], task["checklist"]) == ("calibrated", ["x"], [])
