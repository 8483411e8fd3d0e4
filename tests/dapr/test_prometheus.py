"""A real Prometheus (Debian's package) scrapes the running services and their sidecars, as the chart's
ServiceMonitor and PodMonitor make it do in the cluster: every target is up, and every Dapr metric a
dashboard draws is one the sidecars actually export."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.conftest import devstack_tool, eventually
from tests.dapr.conftest import Stack
from tests.dapr.test_pipeline import first_task_through
from tests.deploy.test_monitoring import dashboard_queries
from todo.config import Role
from todo.dapr_local import API_TOKEN, Service
from todo.platform.ports import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.dapr]


def scrape_config(services: dict[str, Service]) -> dict[str, object]:
    jobs = []
    for name, service in services.items():
        jobs.append({"job_name": name, "static_configs": [{"targets": [f"127.0.0.1:{service.port}"]}]})
        sidecar = f"127.0.0.1:{service.sidecar.metrics_port}"
        jobs.append({"job_name": f"{name}-sidecar", "static_configs": [{"targets": [sidecar]}]})
    return {"global": {"scrape_interval": "1s", "scrape_timeout": "1s"}, "scrape_configs": jobs}


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A Prometheus whose configuration the test writes, then reloads: (config file, base URL)."""
    binary = devstack_tool("TODO_PROMETHEUS", "prometheus", "prometheus")
    config, port = tmp_path / "prometheus.yml", free_port()
    config.write_text(yaml.safe_dump({"global": {"scrape_interval": "1s"}}))
    log = (tmp_path / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}", "--web.enable-lifecycle"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        yield config, f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(20)
        log.close()


def dashboard_metrics(prefix: str) -> set[str]:
    return {name for query in dashboard_queries() for name in re.findall(rf"\b({prefix}_[a-z_]+)\b", query)}


async def test_prometheus_scrapes_every_service_and_sidecar(
    stack: Stack, prometheus: tuple[Path, str]
) -> None:
    api = await stack.start(Role.api)
    notifications = await stack.start(Role.notifications)
    config, base = prometheus
    async with httpx.AsyncClient(base_url=api.url, timeout=10) as http:
        await first_task_through(http, notifications, "prometheus@example.com", "Scraped")
        # Service invocation, so that the invocation series exist on both sidecars.
        invoke = f"{api.sidecar.url}/v1.0/invoke/todo-notifications/method/healthz"
        refused = await http.get(invoke)  # the sidecar takes no call without its API token
        assert refused.status_code == 401, refused.text
        invoked = await http.get(invoke, headers={"dapr-api-token": API_TOKEN})
        assert invoked.status_code == 200, invoked.text
    config.write_text(yaml.safe_dump(scrape_config({"backend": api, "notifications": notifications})))

    async with httpx.AsyncClient(base_url=base, timeout=10) as prom:

        async def reloaded() -> bool:
            try:
                return (await prom.post("/-/reload")).status_code == 200
            except httpx.TransportError:
                return False  # still starting

        await eventually(reloaded, within=60)

        async def targets() -> dict[str, str]:
            active = (await prom.get("/api/v1/targets")).json()["data"]["activeTargets"]
            return {t["labels"]["job"]: t["health"] + " " + t["lastError"] for t in active}

        async def all_up() -> bool:
            return list((await targets()).values()) == ["up "] * 4

        try:
            await eventually(all_up, within=60)
        except AssertionError:
            raise AssertionError(f"targets: {await targets()}") from None
        consumed = (await prom.get("/api/v1/query", params={"query": "todo_events_consumed_total"})).json()
        assert {s["metric"]["job"] for s in consumed["data"]["result"]} == {"backend", "notifications"}

        async def names() -> set[str]:
            return set((await prom.get("/api/v1/label/__name__/values")).json()["data"])

        wanted = dashboard_metrics("dapr")
        assert wanted, "no Dapr metric in the dashboards"

        async def sidecar_series_stored() -> bool:
            return wanted <= await names()

        try:
            await eventually(sidecar_series_stored, within=30)
        except AssertionError:
            exported = sorted(n for n in await names() if n.startswith("dapr_"))
            raise AssertionError(
                f"missing {sorted(wanted - set(exported))}; sidecars export {exported}"
            ) from None

        for query in dashboard_queries():  # Prometheus itself parses every panel's query
            answer = (await prom.get("/api/v1/query", params={"query": query})).json()
            assert answer["status"] == "success", (query, answer)
