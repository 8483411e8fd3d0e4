"""The kagent agent and ModelConfig (deploy/ai-ops) are valid kagent objects, know this deployment's
alerts and topics, and can only read; the runbook in docs/ai-ops.md covers each of the agent's skills."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.conftest import kubeconform_check
from todo.events.envelope import Topic

ROOT = Path(__file__).resolve().parents[2]
KAGENT = ROOT / "deploy" / "ai-ops" / "kagent.yaml"


@pytest.fixture(scope="module")
def agent() -> dict[str, Any]:
    docs = {d["kind"]: d for d in yaml.safe_load_all(KAGENT.read_text())}
    assert set(docs) == {"ModelConfig", "Agent"}
    assert docs["Agent"]["spec"]["declarative"]["modelConfig"] == docs["ModelConfig"]["metadata"]["name"]
    return docs["Agent"]


def test_the_kagent_objects_are_valid(kubeconform: str, k8s_schemas: Path, crd_schemas: Path) -> None:
    summary = kubeconform_check(kubeconform, k8s_schemas, crd_schemas, KAGENT.read_text(), "1.33.0")
    assert "Valid: 2, Invalid: 0, Errors: 0, Skipped: 0" in summary


def test_the_agent_knows_every_alert_and_topic(agent: dict[str, Any]) -> None:
    message = agent["spec"]["declarative"]["systemMessage"]
    rules = yaml.safe_load((ROOT / "deploy/monitoring/rules.yaml").read_text())
    alerts = {r["alert"] for group in rules["groups"] for r in group["rules"]}
    assert {a for a in alerts if a not in message} == set()
    assert {t.value for t in Topic if t.value not in message} == set()
    assert "dead-letters" in message


def test_the_agent_may_only_read(agent: dict[str, Any]) -> None:
    (tools,) = agent["spec"]["declarative"]["tools"]
    names = tools["mcpServer"]["toolNames"]
    assert names
    assert [
        n for n in names if not re.fullmatch(r"k8s_(get|describe)_\w+|prometheus_query(_range)?_tool", n)
    ] == []


def test_the_runbook_has_a_section_for_each_skill(agent: dict[str, Any]) -> None:
    runbook = (ROOT / "docs" / "ai-ops.md").read_text()
    headings = re.findall(r"^### (.+)$", runbook, re.M)
    skills = [s["name"] for s in agent["spec"]["declarative"]["a2aConfig"]["skills"]]
    assert [s for s in skills if not any(h.startswith(s) for h in headings)] == []
    for section in runbook.split("\n### ")[1:]:  # each incident: a prompt, what it finds, plain kubectl
        assert "\n> " in section
        assert "Should find" in section
        assert "```sh\nkubectl" in section
