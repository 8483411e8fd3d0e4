"""Our chart on the real cluster, as a user meets it: a new user's day over the Services, the events
through the three Kafka brokers, sidecars from Dapr's injector holding certificates from Sentry, and
the failures a careless install meets (a missing Secret, a missing image) reported at once by name."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import yaml

from tests.cluster.conftest import ROOT, Cluster, Webhook

pytestmark = pytest.mark.cluster
# Kafka's own tools in a broker pod, on the classpath its image gives them
KAFKA_TOOLS = ["sh", "-c", 'exec java -cp "$KAFKA_TOOLS_CLASSPATH" "$@"', "kafka-tool"]


def wait_for(check: Callable[[], Any], within: float, what: str) -> Any:
    """`check`'s first truthy answer; `within` bounds a hang, it is no latency claim."""
    deadline = time.monotonic() + within
    while not (answer := check()):
        assert time.monotonic() < deadline, f"{what}: not within {within} s"
        time.sleep(0.2)
    return answer


def sign_up(api: httpx.Client) -> None:
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    answer = api.post("/api/auth/register", json={"email": email, "password": "password123"})
    assert answer.status_code == 201, answer.text
    api.headers["authorization"] = f"Bearer {answer.json()['access_token']}"


@pytest.fixture
def api(cluster: Cluster) -> httpx.Client:
    return httpx.Client(base_url=cluster.api_url, timeout=10)


def test_a_new_users_day_through_the_cluster(api: httpx.Client, webhook: Webhook) -> None:
    sign_up(api)
    channels = api.put("/api/me/channels", json=[{"url": webhook.url, "label": "my webhook"}])
    assert channels.status_code == 200, channels.text

    due = (datetime.now(UTC) + timedelta(seconds=30)).replace(microsecond=0)
    task = api.post("/api/tasks", json={"title": "Take the bread out", "due_date": due.isoformat()}).json()
    in_app = wait_for(lambda: api.get("/api/notifications").json()["items"], 90, "the in-app reminder")
    seen_in_app = datetime.now(UTC)
    hooked = wait_for(lambda: webhook.received, 30, "the webhook")
    seen_hooked = datetime.now(UTC)
    assert [(n["kind"], n["task_id"]) for n in in_app] == [("due", task["id"])]
    assert "Take the bread out" in json.dumps(hooked[0])
    assert (seen_in_app - due).total_seconds() <= 5, f"in-app reminder {seen_in_app - due} after due"
    assert (seen_hooked - due).total_seconds() <= 5, f"webhook {seen_hooked - due} after due"

    # the specification's example: a daily series (begun ten days ago) makes today's occurrence at once,
    # and the next one ahead of its time
    now = datetime.now(UTC)
    current = now.replace(hour=0, minute=30, second=0, microsecond=0)
    current -= timedelta(days=1) if current > now else timedelta(0)
    body = {"title": "Take medication", "recurrence_type": "daily",
            "start_date": (current - timedelta(days=10)).isoformat()}  # fmt: skip
    series = api.post("/api/recurring-tasks", json=body)
    assert series.status_code == 201, series.text
    assert datetime.fromisoformat(series.json()["next_due_at"]) == current + timedelta(days=1)
    occurrences = [t for t in api.get("/api/tasks").json()["items"] if t["title"] == "Take medication"]
    due_dates = sorted(datetime.fromisoformat(t["due_date"]) for t in occurrences)
    assert due_dates == [current, current + timedelta(days=1)]

    stats = wait_for(lambda: (s := api.get("/api/stats").json())["totals"]["created"] >= 3 and s, 60, "stats")
    assert stats["totals"]["created"] == 3  # the task and the occurrences, counted by the analytics consumer


def end_offsets(cluster: Cluster, topic: str) -> int:
    """The sum of `topic`'s end offsets, as Kafka's own tool in a broker pod reads them."""
    out = cluster.kubectl("exec", "redpanda-0", "-c", "kafka", "--", *KAFKA_TOOLS,
                          "org.apache.kafka.tools.GetOffsetShell", "--bootstrap-server", "localhost:9093",
                          "--topic", topic)  # fmt: skip
    return sum(int(line.rsplit(":", 1)[1]) for line in out.split())


def test_events_cross_the_three_brokers(cluster: Cluster, api: httpx.Client) -> None:
    described = cluster.kubectl("exec", "redpanda-0", "-c", "kafka", "--", *KAFKA_TOOLS,
                                "org.apache.kafka.tools.TopicCommand", "--bootstrap-server", "localhost:9093",
                                "--describe", "--topic", "task-created")  # fmt: skip
    assert "ReplicationFactor: 3" in described
    assert "min.insync.replicas=2" in described
    assert {
        line.split("Isr: ")[1].split()[0].count(",") for line in described.splitlines() if "Isr: " in line
    } == {2}

    before = end_offsets(cluster, "task-created"), end_offsets(cluster, "task-completed")
    sign_up(api)
    for n in range(3):
        task = api.post("/api/tasks", json={"title": f"round the brokers {n}"}).json()
        assert api.post(f"/api/tasks/{task['id']}/complete").status_code == 200
    wait_for(lambda: end_offsets(cluster, "task-created") >= before[0] + 3, 60, "task-created grew")
    wait_for(lambda: end_offsets(cluster, "task-completed") >= before[1] + 3, 60, "task-completed grew")
    stats = wait_for(
        lambda: (s := api.get("/api/stats").json())["totals"]["completed"] == 3 and s, 60, "stats"
    )
    assert stats["totals"]["created"] == 3  # consumed back from Kafka by the analytics consumer


def test_the_release_is_deployed_with_its_policies_budgets_and_autoscalers(cluster: Cluster) -> None:
    status = json.loads(cluster.helm("status", "todo", "-o", "json").stdout)
    assert status["info"]["status"] == "deployed"
    for kind in ("networkpolicies", "poddisruptionbudgets", "horizontalpodautoscalers"):
        names = {
            item["metadata"]["name"]
            for item in json.loads(cluster.kubectl("get", kind, "-o", "json"))["items"]
        }
        assert {"todo-backend", "todo-notifications", "todo-frontend"} <= names, kind
    deployments = json.loads(
        cluster.kubectl("get", "deployments", "-l", "app.kubernetes.io/name=todo", "-o", "json")
    )
    assert {
        d["metadata"]["name"]: d["status"].get("readyReplicas", 0) >= 2 for d in deployments["items"]
    } == {"todo-backend": True, "todo-notifications": True, "todo-frontend": True}


def sentry_signed(cluster: Cluster) -> int:
    """Certificates Dapr's Sentry replicas have signed, from their own metrics."""
    pods = json.loads(
        cluster.kubectl("get", "pods", "-l", "app=dapr-sentry", "-o", "json", namespace="dapr-system")
    )
    total = 0
    for pod in pods["items"]:
        metrics = httpx.get(f"http://{pod['status']['podIP']}:9090/metrics", timeout=5).text
        total += sum(int(float(line.split()[1])) for line in metrics.splitlines()
                     if line.startswith("dapr_sentry_cert_sign_success_total"))  # fmt: skip
    return total


def test_sidecars_come_from_the_injector_with_certificates_from_sentry(cluster: Cluster) -> None:
    manifest = cluster.helm("get", "manifest", "todo")
    assert manifest.returncode == 0, manifest.stderr
    deployments = [d for d in yaml.safe_load_all(manifest.stdout) if d and d["kind"] == "Deployment"]
    assert len(deployments) == 3
    for deployment in deployments:  # the chart asks for a sidecar; it never writes one
        assert [c["name"] for c in deployment["spec"]["template"]["spec"]["containers"]] != ["daprd"]
        assert "daprd" not in {c["name"] for c in deployment["spec"]["template"]["spec"]["containers"]}

    for component in ("backend", "notifications", "frontend"):
        pods = cluster.pods(component)
        assert len(pods) >= 2, f"{component}: {len(pods)} running pods"
        for pod in pods:
            assert pod["metadata"]["labels"].get("dapr.io/sidecar-injected") == "true"
            images = {c["name"]: c["image"] for c in pod["spec"]["containers"]}
            assert images["daprd"].startswith("todo.local/dapr/daprd:")
            assert all(s["ready"] for s in pod["status"]["containerStatuses"]), pod["metadata"]["name"]

    # a new pod's sidecar asks Sentry for its workload certificate (mTLS) before it serves
    signed = sentry_signed(cluster)
    old = cluster.pods("frontend")[0]["metadata"]["name"]
    cluster.kubectl("delete", "pod", old, "--wait=false")
    cluster.kubectl("rollout", "status", "deployment/todo-frontend", "--timeout=180s")
    wait_for(lambda: sentry_signed(cluster) > signed, 60, "Sentry signed the new sidecar's certificate")
    newest = max(cluster.pods("frontend"), key=lambda p: p["metadata"]["creationTimestamp"])
    log = cluster.kubectl("logs", newest["metadata"]["name"], "-c", "daprd")
    assert "Security is initialized successfully" in log


def test_installing_without_the_secret_fails_at_once_naming_it(cluster: Cluster) -> None:
    namespace = f"todo-nosecret-{uuid.uuid4().hex[:6]}"
    started = time.monotonic()
    try:
        chart = ROOT / "deploy/helm/todo"
        result = cluster.helm("install", "todo", str(chart), "--create-namespace", "-f",
                              str(chart / "values-local.yaml"), "--wait", "--timeout", "5m",
                              namespace=namespace)  # fmt: skip
        took = time.monotonic() - started
        assert result.returncode != 0
        assert 'the Secret "todo-secrets" is missing in namespace ' + namespace in result.stderr
        assert took < 30, f"took {took:.0f} s"
        pods = json.loads(cluster.kubectl("get", "pods", "-o", "json", namespace=namespace))["items"]
        assert pods == []  # refused before anything was created
    finally:
        cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False, namespace="default")


def test_a_pod_whose_image_is_missing_is_named(cluster: Cluster) -> None:
    namespace = f"todo-noimage-{uuid.uuid4().hex[:6]}"
    cluster.kubectl("create", "namespace", namespace, namespace="default")
    try:
        cluster.kubectl("create", "secret", "generic", "todo-secrets", "--from-literal=database-url=sqlite+aiosqlite://",
                        "--from-literal=jwt-secret=" + "x" * 40, namespace=namespace)  # fmt: skip
        token = "--from-literal=token=" + "t" * 32
        cluster.kubectl("create", "secret", "generic", "todo-dapr-api-token", token, namespace=namespace)
        env = {**os.environ, "TODO_CLUSTER_NAMESPACE": namespace}
        result = subprocess.run([str(ROOT / "scripts/cluster"), "app", "--set", "image.tag=no-such-tag",
                                 "--set", "migration.enabled=false", "--timeout", "40s"], env=env,
                                capture_output=True, text=True, timeout=300)  # fmt: skip
        assert result.returncode != 0
        named = [line for line in result.stderr.splitlines() if f"pod {namespace}/todo-backend-" in line]
        assert named, result.stderr
        assert "ErrImageNeverPull" in named[0]
        assert "todo.local/todo:no-such-tag" in named[0]
    finally:
        cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False, namespace="default")


def test_a_users_channel_cannot_reach_inside_the_cluster(api: httpx.Client) -> None:
    """The pod's own sidecar, a Service by its address, a Service by its name: each refused as it is saved."""
    sign_up(api)
    inside = [
        ("json://127.0.0.1:3500/v1.0/publish/pubsub/task-completed", "127.0.0.1 is a loopback address"),
        ("json://10.202.0.1/", "10.202.0.1 is a private address"),  # the Service range's first address
        ("json://kubernetes.default.svc/api", "kubernetes.default.svc resolves to 10.202.0.1"),
    ]
    for url, why in inside:
        answer = api.put("/api/me/channels", json=[{"url": url}])
        assert answer.status_code == 422, (url, answer.text)
        assert why in answer.json()["error"]["fields"][0]["reason"], answer.text
    assert api.get("/api/me/channels").json() == []


SIDECAR_CALL = """
import os, sys, httpx
token = {"dapr-api-token": os.environ["TODO_DAPR_API_TOKEN"]} if sys.argv[1] == "with" else {}
print(httpx.get("http://127.0.0.1:3500/v1.0/metadata", headers=token).status_code)
"""


def test_a_sidecar_takes_no_call_without_its_api_token(cluster: Cluster) -> None:
    for component in ("backend", "notifications"):
        pod = cluster.pods(component)[0]["metadata"]["name"]

        def call(with_token: str, pod: str = pod, component: str = component) -> str:
            command = ("exec", pod, "-c", component, "--", "python", "-c", SIDECAR_CALL, with_token)
            return cluster.kubectl(*command).strip()

        assert call("without") == "401", component
        assert call("with") == "200", component
