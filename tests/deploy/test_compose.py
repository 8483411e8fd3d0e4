"""compose.yaml: valid by the Compose specification's own JSON schema (from the compose-go module, via
scripts/devstack up tools), and the same topology as the chart: each service with its daprd sidecar in its
network namespace, the same app-ids and ports, settings the app knows."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.conftest import devstack_tool
from todo.config import Settings

ROOT = Path(__file__).resolve().parents[2]
APPS = {"backend", "notifications", "frontend"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def test_compose_yaml_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    schema_file = Path(devstack_tool("TODO_SCHEMAS", "the Compose schema", "tools")) / "compose-spec.json"
    schema = json.loads(schema_file.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []
    broken = {**compose, "services": {"backend": {**compose["services"]["backend"], "restart_policy": "x"}}}
    assert list(validator.iter_errors(broken)), (
        "the schema refuses an unknown key (so the pass means something)"
    )


def _flags(command: list[str]) -> dict[str, str]:
    return dict(
        arg.removeprefix("--").split("=", 1) for arg in command if arg.startswith("--") and "=" in arg
    )


def test_every_service_has_its_sidecar_with_the_charts_app_id_and_port(compose: dict[str, Any]) -> None:
    chart = yaml.safe_load((ROOT / "deploy/helm/todo/values.yaml").read_text())["components"]
    services = compose["services"]
    daprd = re.search(r"github.com/dapr/dapr v(\S+)", (ROOT / "scripts/daprd/go.mod").read_text())
    assert daprd is not None
    for name in APPS:
        sidecar = services[f"{name}-dapr"]
        assert sidecar["network_mode"] == f"service:{name}"  # localhost shared, as in a pod
        assert sidecar["image"] == f"daprio/daprd:{daprd[1]}"
        flags = _flags(sidecar["command"])
        assert (flags["app-id"], int(flags["app-port"])) == (chart[name]["appId"], chart[name]["port"])
        assert services[name]["environment"]["TODO_APP_ID"] == chart[name]["appId"]
        assert services[name]["environment"]["TODO_TRANSPORT"] == "dapr"


def test_every_setting_compose_passes_is_one_the_app_reads(compose: dict[str, Any]) -> None:
    known = {f"TODO_{field.upper()}" for field in Settings.model_fields} | {"TODO_HEALTH_URL"}  # Dockerfile's
    passed = {key for service in compose["services"].values() for key in service.get("environment", {})}
    assert passed
    assert {key for key in passed if key.startswith("TODO_")} <= known


def test_the_resources_step_writes_sidecar_files_for_the_compose_addresses(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    command = compose["services"]["dapr-resources"]["command"]
    flags = _flags(command)
    todo = Path(sys.executable).with_name("todo")
    subprocess.run([str(todo), "dev", "dapr-resources", str(tmp_path), f"--kafka={flags['kafka']}",
                    f"--redis={flags['redis']}", f"--source={ROOT / 'deploy/dapr'}"], check=True)  # fmt: skip
    pubsub = yaml.safe_load((tmp_path / "pubsub.yaml").read_text())
    brokers = next(m["value"] for m in pubsub["spec"]["metadata"] if m["name"] == "brokers")
    assert brokers == "redpanda:9092"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (ROOT / "deploy/dapr").iterdir()
    )
    sidecar = _flags(compose["services"]["backend-dapr"]["command"])
    assert sidecar["resources-path"] == "/dapr/dapr"  # the volume is mounted at /var/lib/todo in the step
    assert command[2] == "/var/lib/todo/dapr"
