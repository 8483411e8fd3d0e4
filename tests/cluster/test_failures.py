"""Parts of the platform lost under the running app, as users meet it: a notifications pod killed while a
thousand reminders fall due (each delivered once, on time); PostgreSQL restarted (the API says so
at once, loses nothing, and its outbox drains when the database is back); a Kafka broker lost under writes
(nothing lost, each task's events in order); Dapr's Sentry and sidecar injector away (the running services
go on; a pod started meanwhile waits and gets its sidecar once they are back)."""

from __future__ import annotations

import json
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.cluster.conftest import Cluster
from tests.cluster.test_deployment import KAFKA_TOOLS, sign_up, wait_for

pytestmark = pytest.mark.cluster


@pytest.fixture
def api(cluster: Cluster) -> httpx.Client:
    return httpx.Client(base_url=cluster.api_url, timeout=10)  # a write that hung would fail the test here


def all_task_ids(api: httpx.Client) -> set[str]:
    ids: set[str] = set()
    page = 1
    while items := api.get("/api/tasks", params={"page": page, "page_size": 100}).json()["items"]:
        ids |= {t["id"] for t in items}
        page += 1
    return ids


def readiness(api: httpx.Client) -> dict[str, str]:
    checks: dict[str, str] = api.get("/readyz").json()["checks"]
    return checks


def test_a_postgresql_restart_is_a_clear_503_and_loses_nothing(cluster: Cluster, api: httpx.Client) -> None:
    sign_up(api)
    before = {api.post("/api/tasks", json={"title": f"before {n}"}).json()["id"] for n in range(5)}
    try:  # stopped, then started again: the restart with a window the test can see into
        cluster.kubectl("scale", "statefulset/postgresql", "--replicas=0")
        wait_for(
            lambda: readiness(api) == {"database": "error: DatabaseUnavailable"}, 60, "/readyz naming it"
        )
        # past three readiness periods, every write is still answered, with the 503 that names the cause
        refused = [answer_while_down(api) for _ in until(time.monotonic() + OUTAGE_SECONDS)]
    finally:
        cluster.kubectl("scale", "statefulset/postgresql", "--replicas=1")
    assert {(answer.status_code, answer.json()["error"]["code"]) for answer in refused} == {
        (503, "database_unavailable")
    }
    assert {answer.headers["Retry-After"] for answer in refused} == {"2"}
    wait_for(lambda: readiness(api) == {"database": "ok"}, 180, "PostgreSQL back")

    after = api.post("/api/tasks", json={"title": "after"})
    assert after.status_code == 201, after.text
    created = before | {after.json()["id"]}
    assert all_task_ids(api) == created  # nothing written before is lost, nothing refused was written
    # and each went out through the outbox: the projection counts it once the database is back
    total = wait_for(lambda: (n := api.get("/api/stats").json()["totals"]["created"]) >= len(created) and n,
                     120, "the outbox drained into the analytics projection")  # fmt: skip
    assert total == len(created)


OUTAGE_SECONDS = 25  # the readiness probe's period is 5 s: a probe on the database would fail three times


def until(deadline: float) -> Iterator[None]:
    while time.monotonic() < deadline:
        yield


def answer_while_down(api: httpx.Client) -> httpx.Response:
    """A write while the database is down, on a connection of its own as a new visitor opens one (a kept
    one stays with its pod): if the pods had left their Service, it would be refused and fail here."""
    return httpx.post(f"{api.base_url}/api/tasks", json={"title": "while it is down"}, headers=api.headers,
                      timeout=10)  # fmt: skip


def versions_in_kafka(cluster: Cluster, topic: str, task_ids: set[str]) -> dict[str, list[int]]:
    """Each task's event versions on `topic`, in the order Kafka keeps them (one task, one partition), read
    from the beginning by Kafka's own console consumer in a broker pod."""
    consumer = "org.apache.kafka.tools.consumer.ConsoleConsumer"
    out = cluster.kubectl("exec", "redpanda-0", "-c", "kafka", "--", *KAFKA_TOOLS, consumer,
                          "--bootstrap-server", "localhost:9093", "--topic", topic, "--from-beginning",
                          "--timeout-ms", "15000")  # fmt: skip
    found: dict[str, list[int]] = {task_id: [] for task_id in task_ids}
    for line in out.splitlines():
        if line.startswith("{") and (event := json.loads(line)).get("subject") in task_ids:
            found[event["subject"]].append(event["data"]["version"])
    return found


def test_a_kafka_broker_lost_under_writes_loses_nothing_and_keeps_each_tasks_order(
    cluster: Cluster, api: httpx.Client
) -> None:
    sign_up(api)
    tasks: list[str] = []
    failures: list[str] = []

    def write() -> None:  # each task: created, then three edits (versions 2, 3, 4 on task-updated)
        with httpx.Client(base_url=api.base_url, headers=api.headers, timeout=10) as client:
            for n in range(40):
                created = client.post("/api/tasks", json={"title": f"through the brokers {n}"})
                if created.status_code != 201:
                    failures.append(created.text)
                    continue
                tasks.append(created.json()["id"])
                for edit in range(3):
                    edited = client.patch(f"/api/tasks/{tasks[-1]}", json={"title": f"edit {edit} of {n}"})
                    if edited.status_code != 200:
                        failures.append(edited.text)

    writer = threading.Thread(target=write)
    writer.start()
    wait_for(lambda: len(tasks) >= 10, 60, "the first writes")
    cluster.kubectl("delete", "pod", "redpanda-1", "--wait=false")  # a broker, under the writes
    writer.join(timeout=300)
    assert failures == []
    assert len(tasks) == 40
    created = wait_for(lambda: (n := api.get("/api/stats").json()["totals"]["created"]) >= 40 and n, 180,
                       "every creation through Kafka to the analytics projection")  # fmt: skip
    assert created == 40
    cluster.kubectl("rollout", "status", "statefulset/redpanda", "--timeout=180s")
    ids = set(tasks)

    def every_edit() -> dict[str, list[int]] | None:
        found = versions_in_kafka(cluster, "task-updated", ids)
        return found if all(len(versions) >= 3 for versions in found.values()) else None

    in_kafka = wait_for(every_edit, 120, "every edit in Kafka")
    for task_id, versions in in_kafka.items():
        once_each = [
            v for i, v in enumerate(versions) if i == 0 or versions[i - 1] != v
        ]  # a retry may repeat
        assert once_each == [2, 3, 4], (task_id, versions)


CONTROL_PLANE = ("deployment/dapr-sentry", "deployment/dapr-sidecar-injector")


def test_without_sentry_and_the_injector_services_go_on_and_a_new_pod_waits_for_its_sidecar(
    cluster: Cluster, api: httpx.Client
) -> None:
    sign_up(api)
    replicas = {
        name: cluster.kubectl("get", name, "-o", "jsonpath={.spec.replicas}", namespace="dapr-system")
        for name in CONTROL_PLANE
    }
    frontend = {p["metadata"]["name"] for p in cluster.pods("frontend")}
    try:
        for name in CONTROL_PLANE:
            cluster.kubectl("scale", name, "--replicas=0", namespace="dapr-system")
        for label in ("dapr-sentry", "dapr-sidecar-injector"):
            gone = ("wait", "--for=delete", "pod", "-l", f"app={label}", "--timeout=120s")
            cluster.kubectl(*gone, namespace="dapr-system")
        # a pod started meanwhile: the injector cannot give it a sidecar, so it is not created yet
        cluster.kubectl("delete", "pod", sorted(frontend)[0], "--wait=false")
        # the running services go on: a task through the API, its event through the sidecars and Kafka
        task = api.post("/api/tasks", json={"title": "while the control plane is away"})
        assert task.status_code == 201, task.text
        wait_for(lambda: api.get("/api/stats").json()["totals"]["created"] == 1, 90, "the event consumed")
        refused = wait_for(lambda: "dapr-sidecar-injector" in (e := frontend_events(cluster)) and e, 60,
                           "the new pod's creation refused while the injector is away")  # fmt: skip
        assert "FailedCreate" in refused
    finally:
        for name, count in replicas.items():
            cluster.kubectl("scale", name, f"--replicas={count}", namespace="dapr-system")
    for name in CONTROL_PLANE:
        cluster.kubectl("rollout", "status", name, "--timeout=180s", namespace="dapr-system")
    wait_for(lambda: len(new_frontend_pods(cluster, frontend)) == 1, 180, "the new pod, with its sidecar")
    [pod] = new_frontend_pods(cluster, frontend)
    assert pod["metadata"]["labels"]["dapr.io/sidecar-injected"] == "true"
    assert "daprd" in {c["name"] for c in pod["spec"]["containers"]}


def frontend_events(cluster: Cluster) -> str:
    return cluster.kubectl("get", "events", "--field-selector", "involvedObject.kind=ReplicaSet",
                           "-o", "custom-columns=REASON:.reason,MESSAGE:.message")  # fmt: skip


def new_frontend_pods(cluster: Cluster, old: set[str]) -> list[dict[str, object]]:
    """The frontend pods started since `old`, ready with every container."""
    return [p for p in cluster.pods("frontend") if p["metadata"]["name"] not in old
            and all(s["ready"] for s in p["status"]["containerStatuses"])]  # fmt: skip


def all_notifications(api: httpx.Client) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    page = 1
    while items := api.get("/api/notifications", params={"page": page, "page_size": 100}).json()["items"]:
        found += items
        page += 1
    return found


class LiveInbox(threading.Thread):
    """The user's inbox page, open on the live stream: when each notification first reached it. As a
    browser's EventSource does, it reconnects when the stream ends or breaks (an API pod replaced by a
    rollout or scaled away) and sends the last id it had, so the stream resumes after it."""

    def __init__(self, api: httpx.Client, expected: int) -> None:
        super().__init__(daemon=True)
        self.api, self.expected = api, expected
        self.arrived: dict[str, datetime] = {}
        self.opened = threading.Event()
        self.reconnects = 0
        self.retry_seconds = 3.0  # an EventSource's default, until the stream's `retry:` says otherwise
        self.error: Exception | None = None
        self._last_id: str | None = None

    def run(self) -> None:
        deadline = time.monotonic() + 300
        while len(self.arrived) < self.expected and time.monotonic() < deadline:
            try:
                self._listen()
            except httpx.TransportError:
                pass  # the pod serving it went away mid-read: reconnect, as a browser does
            except httpx.HTTPError as error:
                self.error = error
                break
            if len(self.arrived) < self.expected:
                self.reconnects += 1
                time.sleep(self.retry_seconds)
        self.opened.set()

    def _listen(self) -> None:
        timeout = httpx.Timeout(10, read=120)  # quiet until the first reminder falls due
        headers = dict(self.api.headers) | ({"Last-Event-ID": self._last_id} if self._last_id else {})
        with (
            httpx.Client(base_url=self.api.base_url, headers=headers, timeout=timeout) as client,
            client.stream("GET", "/api/notifications/stream") as stream,
        ):
            stream.raise_for_status()
            for line in stream.iter_lines():
                self.opened.set()  # the stream's first answer: from here on, anything new is sent
                if line.startswith("retry:"):
                    self.retry_seconds = int(line.removeprefix("retry:")) / 1000
                elif line.startswith("id:"):
                    self._last_id = line.removeprefix("id:").strip()
                    self.arrived.setdefault(self._last_id, datetime.now(UTC))
                if len(self.arrived) >= self.expected:
                    return


# Kafka's group notices a consumer that vanished without leaving (its node lost, its sidecar killed) only
# when the consumer's session times out: the Kafka component's `sessionTimeout`, 10 s by default.
SESSION_TIMEOUT_SECONDS = 10


@pytest.mark.parametrize(
    ("how", "force", "late_at_most"),
    [
        ("deleted", False, 5),  # as an eviction, a rollout or `kubectl delete` ends it: the spec's 5 s
        ("lost", True, 5 + SESSION_TIMEOUT_SECONDS),  # as a lost node's pod: no goodbye to the group
    ],
)
def test_a_thousand_reminders_due_in_one_minute_survive_a_notifications_pod_killed(
    cluster: Cluster, api: httpx.Client, how: str, force: bool, late_at_most: float
) -> None:
    sign_up(api)
    first_due = (datetime.now(UTC) + timedelta(seconds=75)).replace(microsecond=0)
    due = [first_due + timedelta(milliseconds=10 * n) for n in range(1000)]  # ten seconds of due times

    def create(at: datetime) -> str:
        body = {"title": f"due at {at.isoformat()}", "due_date": at.isoformat(), "reminder_minutes": [0]}
        answer = api.post("/api/tasks", json=body)
        assert answer.status_code == 201, answer.text
        task_id: str = answer.json()["id"]
        return task_id

    with ThreadPoolExecutor(8) as pool:
        tasks = set(pool.map(create, due))
    assert datetime.now(UTC) < first_due, "the tasks took longer to create than their lead"
    live = LiveInbox(api, expected=1000)
    live.start()
    assert live.opened.wait(30)
    assert live.error is None, live.error
    # in the middle of the ten seconds, one of the notifications pods is deleted, or dies without a word
    wait_for(
        lambda: datetime.now(UTC) >= first_due + timedelta(seconds=5), 90, "the middle of the ten seconds"
    )
    victim = cluster.pods("notifications")[0]["metadata"]["name"]
    ended = ["--grace-period=0", "--force"] if force else ["--wait=false"]
    cluster.kubectl("delete", "pod", victim, *ended)
    live.join(timeout=240)
    assert not live.is_alive(), f"{len(live.arrived)} of 1,000 on the open inbox page within 240 s"
    assert live.error is None, live.error
    cluster.kubectl("rollout", "status", "deployment/todo-notifications", "--timeout=180s")
    delivered = all_notifications(api)  # and no second copy came with the replacement pod
    assert len(delivered) == 1000
    assert {n["task_id"] for n in delivered} == tasks
    assert {n["kind"] for n in delivered} == {"due"}
    assert set(live.arrived) == {n["id"] for n in delivered}
    fired = sorted(lateness(n["created_at"], n["due_at"]) for n in delivered)
    shown = sorted(
        (live.arrived[n["id"]] - datetime.fromisoformat(n["due_at"])).total_seconds() for n in delivered
    )
    sent, written, on_page = summary(fired), summary(written_lateness(cluster, api)), summary(shown)
    print(f"\npod {how}: reminders sent after their time: {sent}; written to the inbox: {written}", end="")
    print(f"; on the open inbox page: {on_page}", end="")
    print(f" ({live.reconnects} reconnects of the page's stream)")
    assert shown[-1] <= late_at_most, f"a reminder reached the open inbox {shown[-1]:.1f} s after its time"


def written_lateness(cluster: Cluster, api: httpx.Client) -> list[float]:
    """When each of the user's notifications was written (`recorded_at`, which the API does not show)
    minus its due time: a late page then tells a slow consumer from a slow live stream."""
    user_id = uuid.UUID(api.get("/api/me").json()["id"])
    query = f"SELECT extract(epoch FROM recorded_at - due_at) FROM notifications WHERE user_id = '{user_id}'"
    psql = 'PGPASSWORD="$POSTGRES_PASSWORD" psql -h 127.0.0.1 -U "$POSTGRES_USER" "$POSTGRES_DB" -tAc'
    answer = cluster.kubectl("exec", "postgresql-0", "--", "sh", "-c", f'{psql} "{query}"')
    return sorted(float(line) for line in answer.split())


def lateness(at: str, due: str) -> float:
    return (datetime.fromisoformat(at) - datetime.fromisoformat(due)).total_seconds()


def summary(late: list[float]) -> str:
    p99 = late[int(0.99 * len(late)) - 1]
    return f"p50 {statistics.median(late):.2f} s, p99 {p99:.2f} s, max {late[-1]:.2f} s"
