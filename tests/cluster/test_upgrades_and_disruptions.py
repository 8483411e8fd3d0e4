"""Upgrades as the pipeline's deploy step runs them (`helm upgrade --atomic --wait`), on the real cluster and
under steady traffic: a new image rolls every Deployment without a failed request or a lost event; a broken
image is refused and rolled back while traffic goes on. The disruptions a node drain makes: an eviction
that would leave a service without a ready pod is refused. And load: metrics-server feeds the API's
autoscaler, which adds pods under load and takes them away after."""

from __future__ import annotations

import itertools
import json
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.cluster.conftest import ROOT, Cluster
from tests.cluster.test_deployment import wait_for

pytestmark = pytest.mark.cluster
CHART = ROOT / "deploy/helm/todo"
DEPLOYMENTS = ("todo-backend", "todo-notifications", "todo-frontend")
LONGEST_SILENCE_SECONDS = 2.0  # between two answered requests: "traffic never stops"


@dataclass
class SteadyTraffic:
    """Creates a task and reads it back, over and over from a few threads, through the API's Service until
    stopped. Each request opens its own connection, as kube-proxy balances connections, not requests:
    a kept-alive connection would stay with one pod however the Service changes."""

    api_url: str
    token: str
    threads: int = 6
    created: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    answered_at: list[float] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> SteadyTraffic:
        self._workers = [
            threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(self.threads)
        ]
        for worker in self._workers:
            worker.start()
        wait_for(lambda: len(self.answered_at) >= 50, 60, "steady traffic before the upgrade")
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=30)

    def _run(self, n: int) -> None:
        headers = {"authorization": f"Bearer {self.token}"}
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=self.api_url, headers=headers, timeout=10, limits=limits) as api:
            count = 0
            while not self._stop.is_set():
                count += 1
                self._request(api, "POST", "/api/tasks", json={"title": f"steady {n}.{count}"})

    def _request(self, api: httpx.Client, method: str, path: str, **kwargs: object) -> None:
        try:
            answer = api.request(method, path, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            self._note(failure=f"{method} {path}: {type(exc).__name__}: {exc}")
            return
        expected = 201 if method == "POST" else 200
        if answer.status_code != expected:
            self._note(failure=f"{method} {path}: {answer.status_code} {answer.text[:200]}")
            return
        self._note()
        if method == "POST":
            task_id = answer.json()["id"]
            with self._lock:
                self.created.append(task_id)
            self._request(api, "GET", f"/api/tasks/{task_id}")

    def _note(self, failure: str | None = None) -> None:
        with self._lock:
            if failure:
                self.failures.append(failure)
            else:
                self.answered_at.append(time.monotonic())

    def longest_silence(self) -> float:
        times = sorted(self.answered_at)
        return max((b - a for a, b in itertools.pairwise(times)), default=0.0)

    def rate(self) -> float:
        return len(self.answered_at) / max(self.answered_at[-1] - self.answered_at[0], 1e-9)


def signed_up_token(cluster: Cluster) -> str:
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    answer = httpx.post(
        f"{cluster.api_url}/api/auth/register", json={"email": email, "password": "password123"}
    )
    assert answer.status_code == 201, answer.text
    token: str = answer.json()["access_token"]
    return token


def deployed_tag(cluster: Cluster) -> str:
    values = json.loads(cluster.helm("get", "values", "todo", "--all", "-o", "json").stdout)
    tag: str = values["image"]["tag"]
    return tag


def deployment_images(cluster: Cluster) -> dict[str, str]:
    found = json.loads(
        cluster.kubectl("get", "deployments", "-l", "app.kubernetes.io/name=todo", "-o", "json")
    )
    return {
        d["metadata"]["name"]: next(c["image"] for c in d["spec"]["template"]["spec"]["containers"])
        for d in found["items"]
    }


def pod_names(cluster: Cluster) -> set[str]:
    return {
        p["metadata"]["name"] for name in ("backend", "notifications", "frontend") for p in cluster.pods(name)
    }


def upgrade(cluster: Cluster, *settings: str, timeout: str) -> subprocess.CompletedProcess[str]:
    """The deploy step of .github/workflows/deploy.yml, with this cluster's values."""
    sets = [arg for setting in settings for arg in ("--set", setting)]
    return cluster.helm("upgrade", "todo", str(CHART), "-f", str(CHART / "values-local.yaml"), *sets,
                        "--atomic", "--wait", "--timeout", timeout)  # fmt: skip


def stats_created(api_url: str, token: str) -> int:
    answer = httpx.get(f"{api_url}/api/stats", headers={"authorization": f"Bearer {token}"}, timeout=10)
    created: int = answer.json()["totals"]["created"]
    return created


def test_a_new_image_rolls_out_without_a_failed_request_or_a_lost_event(cluster: Cluster) -> None:
    current = deployed_tag(cluster)  # scripts/cluster's, or this test's from an earlier run: take the other
    new = current.removesuffix("-next") if current.endswith("-next") else current + "-next"
    image = "todo.local/todo"
    ctr = ["ctr", "--address", cluster.containerd, "-n", "k8s.io"]
    tagged = subprocess.run([*ctr, "images", "tag", "--force", f"{image}:{current}", f"{image}:{new}"],
                            capture_output=True, text=True)  # fmt: skip
    assert tagged.returncode == 0, tagged.stderr
    token = signed_up_token(cluster)
    old_pods = pod_names(cluster)

    with SteadyTraffic(cluster.api_url, token) as traffic:
        result = upgrade(cluster, f"image.tag={new}", timeout="5m")
        answered = len(traffic.answered_at)  # and on, on the new pods alone
        wait_for(lambda: len(traffic.answered_at) >= answered + 50, 60, "traffic after the rollout")
    assert result.returncode == 0, result.stderr
    assert deployment_images(cluster) == {name: f"{image}:{new}" for name in DEPLOYMENTS}
    wait_for(lambda: not pod_names(cluster) & old_pods, 60, "every old pod gone (each drains first)")
    assert len(pod_names(cluster)) >= 6
    assert traffic.failures == [], f"{len(traffic.failures)} failed: {traffic.failures[:5]}"
    assert traffic.longest_silence() < LONGEST_SILENCE_SECONDS, (
        f"silent for {traffic.longest_silence():.1f} s"
    )
    print(f"\n{len(traffic.answered_at)} requests at {traffic.rate():.0f}/s, none failed")  # the figure
    # every created task's event reached the analytics projection, once
    created = len(traffic.created)
    wait_for(lambda: stats_created(cluster.api_url, token) >= created, 120, "the analytics projection")
    assert stats_created(cluster.api_url, token) == created


def test_a_broken_image_is_rolled_back_while_traffic_goes_on(cluster: Cluster) -> None:
    before = deployment_images(cluster)
    token = signed_up_token(cluster)
    with SteadyTraffic(cluster.api_url, token) as traffic:
        # without the migration hook, which would refuse the image first: the Deployments meet it themselves
        result = upgrade(cluster, "image.tag=no-such-tag", "migration.enabled=false", timeout="60s")
    assert result.returncode != 0
    assert "has been rolled back" in result.stderr, result.stderr
    status = json.loads(cluster.helm("status", "todo", "-o", "json").stdout)
    assert status["info"]["status"] == "deployed"
    assert deployment_images(cluster) == before
    for name in DEPLOYMENTS:
        cluster.kubectl("rollout", "status", f"deployment/{name}", "--timeout=120s")
    assert traffic.failures == [], f"{len(traffic.failures)} failed: {traffic.failures[:5]}"
    assert traffic.longest_silence() < LONGEST_SILENCE_SECONDS, (
        f"silent for {traffic.longest_silence():.1f} s"
    )


def evict(cluster: Cluster, pod: str) -> subprocess.CompletedProcess[str]:
    """The Eviction API, as `kubectl drain` and a node upgrade call it (it honours PodDisruptionBudgets)."""
    body = json.dumps({"apiVersion": "policy/v1", "kind": "Eviction",
                       "metadata": {"name": pod, "namespace": cluster.namespace}})  # fmt: skip
    path = f"/api/v1/namespaces/{cluster.namespace}/pods/{pod}/eviction"
    env = {"KUBECONFIG": cluster.kubeconfig, "PATH": "/usr/bin:/bin"}
    return subprocess.run([cluster.kubectl_path, "create", "--raw", path, "-f", "-"], input=body, env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_an_eviction_that_would_leave_no_ready_api_pod_is_refused(cluster: Cluster) -> None:
    at_rest(cluster)  # the two replicas of a quiet hour, not more that the load of other tests added
    first, second = sorted(p["metadata"]["name"] for p in cluster.pods("backend"))[:2]
    assert evict(cluster, first).returncode == 0  # one of two may go: its budget allows it
    refused = evict(cluster, second)  # before the first one's successor is ready
    assert refused.returncode != 0
    assert "disruption budget" in refused.stderr, refused.stderr
    assert httpx.get(f"{cluster.api_url}/readyz", timeout=10).status_code == 200  # the second one serves
    ready = wait_for(lambda: len(ready_pods(cluster, "backend")) >= 2 and ready_pods(cluster, "backend"), 180,
                     "the evicted pod's successor ready")  # fmt: skip
    assert first not in ready
    assert second in ready  # it was never evicted


def ready_pods(cluster: Cluster, component: str) -> set[str]:
    """Pods serving and staying: ready, and not on their way out."""
    return {p["metadata"]["name"] for p in cluster.pods(component) if "deletionTimestamp" not in p["metadata"]
            and all(s["ready"] for s in p["status"]["containerStatuses"])}  # fmt: skip


def autoscaler(cluster: Cluster) -> dict[str, Any]:
    hpa: dict[str, Any] = json.loads(cluster.kubectl("get", "hpa/todo-backend", "-o", "json"))
    return hpa


def at_rest(cluster: Cluster) -> None:
    """Wait until the API runs on its two replicas, scaled back after whatever load came before."""

    def resting() -> bool:
        status = autoscaler(cluster)["status"]
        replicas = (status.get("desiredReplicas"), status.get("currentReplicas"))
        return replicas == (2, 2) and len(ready_pods(cluster, "backend")) == 2

    wait_for(resting, 240, "todo-backend at rest on two replicas")


def app_cpu(cluster: Cluster) -> int | None:
    """The API containers' CPU as a share of their request, as the autoscaler last read it from
    metrics-server (None before its first reading)."""
    for metric in autoscaler(cluster)["status"].get("currentMetrics") or []:
        if metric["type"] == "ContainerResource":
            return int(metric["containerResource"]["current"]["averageUtilization"])
    return None


def test_load_on_the_api_scales_it_out_and_back(cluster: Cluster) -> None:
    at_rest(cluster)
    quiet = wait_for(lambda: app_cpu(cluster) is not None and (app_cpu(cluster),), 180,
                     "the autoscaler's first reading from metrics-server")  # fmt: skip
    pods = json.loads(
        cluster.kubectl("get", "--raw", f"/apis/metrics.k8s.io/v1beta1/namespaces/{cluster.namespace}/pods")
    )
    containers = {c["name"] for p in pods["items"] for c in p["containers"]}
    assert {"backend", "daprd"} <= containers  # metrics-server reads each container, the sidecar's too
    with SteadyTraffic(cluster.api_url, signed_up_token(cluster), threads=8) as load:
        out = wait_for(lambda: len(ready_pods(cluster, "backend")) > 2 and app_cpu(cluster), 240,
                       "todo-backend scaled out under load, the new pods ready")  # fmt: skip
    assert load.failures == [], load.failures[:5]  # and nothing failed while pods joined the Service
    wait_for(lambda: autoscaler(cluster)["status"]["desiredReplicas"] == 2, 240, "scaled back after the load")
    print(
        f"\nthe API's CPU, share of its request: {quiet[0]} % at rest, {out} % under load; "
        f"{len(load.answered_at)} requests answered meanwhile"
    )


def test_replicas_spread_over_zones_as_far_as_one_node_shows(cluster: Cluster) -> None:
    """Simulated, not shown: one node is one zone. What one node can show is that the constraint is live:
    it spreads over the zone label the node carries (as DOKS' nodes carry it), and its pods were scheduled
    under it (ScheduleAnyway: a single zone does not keep them pending)."""
    nodes = json.loads(cluster.kubectl("get", "nodes", "-o", "json", namespace="default"))["items"]
    zones = {n["metadata"]["labels"].get("topology.kubernetes.io/zone") for n in nodes}
    assert None not in zones
    for component in ("backend", "notifications", "frontend"):
        pods = cluster.pods(component)
        assert len(pods) >= 2, component
        for pod in pods:
            [spread] = pod["spec"]["topologySpreadConstraints"]
            assert spread["topologyKey"] == "topology.kubernetes.io/zone"
            assert (spread["maxSkew"], spread["whenUnsatisfiable"]) == (1, "ScheduleAnyway")
            assert spread["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == component
            assert pod["spec"]["nodeName"] in {n["metadata"]["name"] for n in nodes}
