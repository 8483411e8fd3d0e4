"""Parts of the platform lost under the running app, as users meet it: PostgreSQL restarted (the API says so
at once, loses nothing, and its outbox drains when the database is back)."""

from __future__ import annotations

import httpx
import pytest

from tests.cluster.conftest import Cluster
from tests.cluster.test_deployment import sign_up, wait_for

pytestmark = pytest.mark.cluster


@pytest.fixture
def api(cluster: Cluster) -> httpx.Client:
    return httpx.Client(base_url=cluster.api_url, timeout=10)  # a write that hung would fail the test here


def all_task_ids(api: httpx.Client) -> set[str]:
    ids: set[str] = set()
    page = 1
    while items := api.get("/api/tasks", params={"page": page, "page_size": 100}).json()["items"]:
        ids |= {t["id"] for t in items}
        page += 1
    return ids


def readiness(api: httpx.Client) -> dict[str, str]:
    checks: dict[str, str] = api.get("/readyz").json()["checks"]
    return checks


def test_a_postgresql_restart_is_a_clear_503_and_loses_nothing(cluster: Cluster, api: httpx.Client) -> None:
    sign_up(api)
    before = {api.post("/api/tasks", json={"title": f"before {n}"}).json()["id"] for n in range(5)}
    try:  # stopped, then started again: the restart with a window the test can see into
        cluster.kubectl("scale", "statefulset/postgresql", "--replicas=0")
        wait_for(
            lambda: readiness(api) == {"database": "error: DatabaseUnavailable"}, 60, "/readyz naming it"
        )
        refused = api.post("/api/tasks", json={"title": "while it is down"})
    finally:
        cluster.kubectl("scale", "statefulset/postgresql", "--replicas=1")
    assert refused.status_code == 503, refused.text
    assert refused.json()["error"]["code"] == "database_unavailable"
    assert refused.headers["Retry-After"] == "2"
    wait_for(lambda: readiness(api) == {"database": "ok"}, 180, "PostgreSQL back")

    after = api.post("/api/tasks", json={"title": "after"})
    assert after.status_code == 201, after.text
    created = before | {after.json()["id"]}
    assert all_task_ids(api) == created  # nothing written before is lost, nothing refused was written
    # and each went out through the outbox: the projection counts it once the database is back
    total = wait_for(lambda: (n := api.get("/api/stats").json()["totals"]["created"]) >= len(created) and n,
                     120, "the outbox drained into the analytics projection")  # fmt: skip
    assert total == len(created)
