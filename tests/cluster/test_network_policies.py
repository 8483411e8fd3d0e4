"""NetworkPolicies enforced (kube-router's firewall, as Cilium on DOKS): a pod in the namespace without the
labels our policies allow reaches neither the data stores nor any port of our pods but the public web UI.
That the journey still works with them on is every other cluster test, run under the same enforcement."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.cluster.conftest import Cluster

pytestmark = pytest.mark.cluster
PROBE_IMAGE = "todo.local/debian:bookworm"  # the local base image: bash, and nothing of ours


@pytest.fixture
def stranger(cluster: Cluster) -> Iterator[str]:
    """A pod in the app's namespace with none of the labels the policies name."""
    name = f"stranger-{uuid.uuid4().hex[:6]}"
    cluster.kubectl("run", name, f"--image={PROBE_IMAGE}", "--image-pull-policy=Never", "--restart=Never",
                    "--command", "--", "sleep", "600")  # fmt: skip
    try:
        cluster.kubectl("wait", "--for=condition=Ready", f"pod/{name}", "--timeout=120s")
        yield name
    finally:
        cluster.kubectl("delete", "pod", name, "--wait=false", "--grace-period=0", "--force")


def reachable(cluster: Cluster, pod: str, targets: list[str]) -> dict[str, bool]:
    """Whether `pod` can open a TCP connection to each host:port (three seconds each, all in one exec)."""
    script = "; ".join(
        f"if timeout 3 bash -c 'echo > /dev/tcp/{t.rsplit(':', 1)[0]}/{t.rsplit(':', 1)[1]}' 2>/dev/null; "
        f"then echo '{t} open'; else echo '{t} closed'; fi"
        for t in targets
    )
    out = cluster.kubectl("exec", pod, "--", "bash", "-c", script)
    return {line.rsplit(" ", 1)[0]: line.endswith(" open") for line in out.splitlines() if line}


def pod_ip(cluster: Cluster, component: str) -> str:
    address: str = cluster.pods(component)[0]["status"]["podIP"]
    return address


def test_a_pod_without_the_allowed_labels_reaches_nothing_inside(cluster: Cluster, stranger: str) -> None:
    api, notifications = pod_ip(cluster, "backend"), pod_ip(cluster, "notifications")
    closed = [
        "postgresql:5432", "redis:6379", "redpanda-0.redpanda:9093",  # the data stores and the broker
        "todo-backend:80", f"{api}:8000",  # the API, by its Service and its pod
        f"{notifications}:8001",
        # the sidecars: HTTP and gRPC API, sidecar to sidecar, metrics
        *(f"{ip}:{port}" for ip in (api, notifications) for port in (3500, 50001, 50002, 9090)),
    ]  # fmt: skip
    found = reachable(cluster, stranger, ["todo-frontend:80", *closed])
    assert found.pop("todo-frontend:80"), "the public web UI: the probe itself must connect somewhere"
    assert {target for target, is_open in found.items() if is_open} == set()
    assert set(found) == set(closed)
