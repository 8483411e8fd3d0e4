"""Running the Dapr sidecar on one machine: the same resource files as the cluster, pointed at local servers.

`deploy/dapr/*.yaml` describe the cluster (Redpanda brokers, managed Redis with TLS). A local run copies
them into a directory of its own with only the connection settings changed, then starts `daprd` beside
each app. Used by the tests and the local distributed stack.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

DEPLOY_DAPR = Path(__file__).resolve().parents[2] / "deploy" / "dapr"


@dataclass(frozen=True)
class LocalServers:
    kafka: str  # host:port
    redis: str  # host:port


def render_resources(dest: Path, servers: LocalServers, *, source: Path = DEPLOY_DAPR) -> Path:
    """Copy the cluster's Dapr resources into `dest` with local connection settings; returns `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.yaml")):
        documents = [_localise(doc, servers) for doc in yaml.safe_load_all(path.read_text()) if doc]
        (dest / path.name).write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return dest


def _localise(doc: dict[str, Any], servers: LocalServers) -> dict[str, Any]:
    if doc.get("kind") == "Configuration":
        doc["spec"].pop("mtls", None)  # no Sentry outside the cluster
    if doc.get("kind") != "Component":
        return doc
    local = {
        "pubsub.kafka": {"brokers": servers.kafka},
        "state.redis": {"redisHost": servers.redis, "enableTLS": "false"},
    }.get(doc["spec"]["type"], {})
    kept = [m for m in doc["spec"].get("metadata", []) if "secretKeyRef" not in m]  # no secrets locally
    for item in kept:
        if item["name"] in local:
            item["value"] = local[item["name"]]
    doc["spec"]["metadata"] = kept
    return doc


@dataclass(frozen=True)
class Sidecar:
    app_id: str
    http_port: int
    grpc_port: int
    metrics_port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"


def start_sidecar(
    daprd: str,
    *,
    app_id: str,
    app_port: int,
    ports: tuple[int, int, int],
    resources: Path,
    log_file: Path,
) -> Sidecar:
    """Start `daprd` for `app_id` (standalone mode: no placement, scheduler or mTLS)."""
    http_port, grpc_port, metrics_port = ports
    command = [
        daprd,
        "--app-id", app_id,
        "--app-port", str(app_port),
        "--app-protocol", "http",
        "--dapr-http-port", str(http_port),
        "--dapr-grpc-port", str(grpc_port),
        "--metrics-port", str(metrics_port),
        "--dapr-internal-grpc-port", "0",
        "--resources-path", str(resources),
        "--config", str(resources / "configuration.yaml"),
        "--log-level", "warn",
        "--placement-host-address", "",
        "--scheduler-host-address", "",
    ]  # fmt: skip
    env = {**os.environ, "DAPR_HOST_IP": "127.0.0.1"}  # mDNS name resolution needs no default route then
    with log_file.open("ab") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    return Sidecar(app_id, http_port, grpc_port, metrics_port, process)


def sidecar_ready(sidecar: Sidecar) -> bool:
    """The sidecar is up and has loaded its components and the app's subscriptions."""
    try:
        return httpx.get(f"{sidecar.url}/v1.0/healthz", timeout=1).status_code == 204
    except httpx.HTTPError:
        return False
