"""The alert rules: checked and unit-tested by the real promtool (Debian's `prometheus` package, installed by
scripts/devstack up prometheus), and every metric they name is one our services export."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import Register, announce, devstack_tool, settle
from tests.notifications.test_channels import Webhook, put_channels
from todo.bootstrap import Container
from todo.events.envelope import TASK_DUE

MONITORING = Path(__file__).resolve().parents[2] / "deploy" / "monitoring"
FROM_KUBE_STATE_METRICS = {"kube_pod_container_status_restarts_total"}


@pytest.fixture(scope="module")
def promtool() -> str:
    return devstack_tool("TODO_PROMTOOL", "promtool", "prometheus")


def test_the_rules_are_valid_and_their_unit_tests_pass(promtool: str) -> None:
    checked = subprocess.run([promtool, "check", "rules", "rules.yaml"], cwd=MONITORING,
                             capture_output=True, text=True)  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 7 rules found" in checked.stdout
    tested = subprocess.run([promtool, "test", "rules", "rules.test.yaml"], cwd=MONITORING,
                            capture_output=True, text=True)  # fmt: skip
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_has_a_unit_test() -> None:
    rules = yaml.safe_load((MONITORING / "rules.yaml").read_text())
    alerts = {r["alert"] for group in rules["groups"] for r in group["rules"]}
    tests = yaml.safe_load((MONITORING / "rules.test.yaml").read_text())
    tested = {t["alertname"] for case in tests["tests"] for t in case["alert_rule_test"] if t["exp_alerts"]}
    assert alerts == tested


async def test_every_metric_in_the_rules_is_exported_by_the_services(
    client: httpx.AsyncClient, register: Register, container: Container, webhooks: list[Webhook]
) -> None:
    """A running all-in-one does what makes each series appear (an event published and consumed, a reminder
    sent to one channel that takes it and one that refuses it), then /metrics is scraped."""
    auth = await register()
    await put_channels(client, auth, [{"url": hook.url} for hook in webhooks])
    task = await client.post(
        "/api/tasks", json={"title": "Due", "due_date": "2026-06-15T16:00:00Z"}, headers=auth
    )
    await announce(container, TASK_DUE, task.json()["id"])
    await settle(container)
    exposition = (await client.get("/metrics")).text
    exported = {_family(name) for name in re.findall(r"^# TYPE (\S+) ", exposition, re.M)}
    for source, text in [
        ("rules", (MONITORING / "rules.yaml").read_text()),
        ("dashboards", "\n".join(dashboard_queries())),
    ]:
        named = set(re.findall(r"\b((?:todo|kube)_[a-z_]+)\b", text)) - FROM_KUBE_STATE_METRICS
        assert named, f"no metric found in the {source}"
        families = {_family(name) for name in named}
        assert families <= exported, f"{source} name metrics not exported: {sorted(families - exported)}"


def dashboard_queries() -> list[str]:
    """Every panel query of every dashboard (the Prometheus test runs them too)."""
    return [t["expr"] for board in _dashboards().values() for p in board["panels"] for t in p["targets"]]


def _dashboards() -> dict[str, dict[str, Any]]:
    return {
        path.stem: json.loads(path.read_text()) for path in sorted((MONITORING / "dashboards").glob("*.json"))
    }


def test_the_dashboards_cover_api_pipeline_reminders_and_dapr_and_import_cleanly() -> None:
    boards = _dashboards()
    assert set(boards) == {"api", "pipeline", "reminders", "dapr"}
    assert len({b["uid"] for b in boards.values()}) == 4
    for name, board in boards.items():
        ids = [panel["id"] for panel in board["panels"]]
        assert len(ids) == len(set(ids)) >= 4, name
        assert [v["name"] for v in board["templating"]["list"]] == ["datasource"], name
        for panel in board["panels"]:  # every panel asks the chosen Prometheus, never a fixed one
            assert panel["datasource"]["uid"] == "${datasource}", (name, panel["title"])
            assert panel["targets"], (name, panel["title"])
            assert all(t["expr"] for t in panel["targets"]), (name, panel["title"])
    rules = yaml.safe_load((MONITORING / "rules.yaml").read_text())
    alerts = {r["alert"] for group in rules["groups"] for r in group["rules"]}
    mentioned = set(re.findall(r"\bTodo[A-Z]\w+", json.dumps(boards)))
    assert mentioned, "the panels name no alert"
    assert mentioned <= alerts  # a panel that cites an alert cites one that exists


def _family(name: str) -> str:
    """A series name without the suffixes Prometheus adds to counters and histograms."""
    return re.sub(r"_(total|bucket|count|sum)$", "", name)
