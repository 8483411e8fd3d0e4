"""The GitHub workflows (actionlint runs in `make lint`): CI runs exactly `make test`; the deploy ships the
commit that passed, atomically, smoke-tests it and rolls back only what the smoke test rejected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"


def load(name: str) -> dict[str, Any]:
    workflow: dict[str, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    workflow["on"] = workflow.pop(True)  # YAML 1.1 reads the key `on` as a boolean
    return workflow


def runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_ci_runs_make_test_on_pull_requests_and_main() -> None:
    ci = load("ci.yml")
    assert set(ci["on"]) == {"pull_request", "push"}
    (job,) = ci["jobs"].values()
    assert job["steps"][-1]["run"] == ".ci/run"
    assert (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text().strip().endswith("make test")
    assert job["env"]["CI"] == "true"  # a missing PostgreSQL, Kafka or daprd fails instead of skipping
    assert "|| true" not in runs(job)


def test_deploy_ships_the_tested_commit_atomically_then_smoke_tests_it() -> None:
    deploy = load("deploy.yml")
    assert deploy["on"]["workflow_run"] == {"workflows": ["ci"], "types": ["completed"], "branches": ["main"]}
    job = deploy["jobs"]["deploy"]
    assert job["if"] == "github.event.workflow_run.conclusion == 'success'"
    script = runs(job)
    assert 'docker push "$IMAGE:$SHA"' in script
    assert '--set image.tag="$SHA"' in script
    assert "--atomic --wait" in script
    assert "todo smoke http://127.0.0.1:8080" in script
    steps = {step.get("name", step.get("uses")): step for step in job["steps"]}
    smoke = next(s for s in steps.values() if s.get("id") == "smoke")
    rollback = next(s for s in steps.values() if "helm rollback" in s.get("run", ""))
    assert rollback["if"] == "failure() && steps.smoke.outcome == 'failure'"
    assert "TODO_SMOKE_PASSWORD" in smoke["env"]
    assert "|| true" not in script
