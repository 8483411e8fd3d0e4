"""The real deployment on one machine (scripts/cluster): our images and chart on a Kubernetes node built
from source, with Dapr's control plane, Kafka, PostgreSQL and Redis. `make test` brings it up first; in CI
its absence fails the run instead of skipping."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from todo.platform.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Cluster:
    api_url: str
    web_url: str
    host_address: str  # this machine, as pods reach it
    namespace: str
    kubeconfig: str
    kubectl_path: str
    helm_path: str
    containerd: str  # the node's containerd socket (its images, for `ctr`)

    def kubectl(self, *args: str, namespace: str | None = None, check: bool = True) -> str:
        return self._run(self.kubectl_path, *args, namespace=namespace, check=check).stdout

    def helm(self, *args: str, namespace: str | None = None) -> subprocess.CompletedProcess[str]:
        return self._run(self.helm_path, *args, namespace=namespace, check=False)

    def pods(self, component: str) -> list[dict[str, Any]]:
        found = self.kubectl("get", "pods", "-l", f"app.kubernetes.io/component={component}", "-o", "json")
        return [p for p in json.loads(found)["items"] if p["status"]["phase"] == "Running"]

    def _run(self, *command: str, namespace: str | None, check: bool) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "KUBECONFIG": self.kubeconfig}
        program, *args = command  # the namespace first: whatever follows `--` goes into a pod
        result = subprocess.run([program, "--namespace", namespace or self.namespace, *args], env=env,
                                capture_output=True, text=True, timeout=300)  # fmt: skip
        if check:
            assert result.returncode == 0, result.stderr
        return result


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    """The deployment; after the last test, the guard must have dropped nothing on its way out."""
    yield _cluster()
    status = subprocess.run([str(ROOT / "scripts/cluster"), "status"], capture_output=True, text=True)
    assert "guard: 0 packets dropped" in status.stdout, status.stdout


def _cluster() -> Cluster:
    needed = ["TODO_CLUSTER_API_URL", "TODO_CLUSTER_WEB_URL", "TODO_CLUSTER_HOST_ADDRESS",
              "TODO_CLUSTER_KUBECONFIG", "TODO_CLUSTER_KUBECTL", "TODO_CLUSTER_HELM",
              "TODO_CLUSTER_CONTAINERD"]  # fmt: skip
    missing = [name for name in needed if not os.environ.get(name)]
    if missing:
        message = f"{', '.join(missing)} not set: run `make test` (scripts/cluster all, then its env)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    env = os.environ
    return Cluster(api_url=env["TODO_CLUSTER_API_URL"], web_url=env["TODO_CLUSTER_WEB_URL"],
                   host_address=env["TODO_CLUSTER_HOST_ADDRESS"],
                   namespace=env.get("TODO_CLUSTER_NAMESPACE", "todo"),
                   kubeconfig=env["TODO_CLUSTER_KUBECONFIG"], kubectl_path=env["TODO_CLUSTER_KUBECTL"],
                   helm_path=env["TODO_CLUSTER_HELM"], containerd=env["TODO_CLUSTER_CONTAINERD"])  # fmt: skip


@dataclass
class Webhook:
    """A webhook receiver on this machine's address the pods reach; keeps every JSON body it gets."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def webhook(cluster: Cluster) -> Iterator[Webhook]:
    port = free_port()
    hook = Webhook(f"json://{cluster.host_address}:{port}/hook")

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            hook.received.append(json.loads(body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer((cluster.host_address, port), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield hook
    server.shutdown()
    server.server_close()
