"""`make bench` seeds its users straight into the database; these rows must stay valid as the schema grows
(the seed once broke on a column that became NOT NULL, and no test ran it)."""

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


def api_load() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "bench" / "api_load.py"
    spec = importlib.util.spec_from_file_location("bench_api_load", path)
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
    bench = api_load()
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
