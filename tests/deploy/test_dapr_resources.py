"""The Dapr files in deploy/dapr agree with the code, and the local copy changes only what it must."""

from __future__ import annotations

from pathlib import Path

import yaml

from todo.bootstrap import EVENT_CONSUMERS
from todo.dapr_local import DEPLOY_DAPR, LocalServers, render_resources
from todo.events.envelope import Topic


def load(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_the_declared_subscriptions_are_exactly_the_consumers_topics() -> None:
    subscriptions = load(DEPLOY_DAPR / "subscriptions.yaml")
    declared = {s["spec"]["topic"] for s in subscriptions}
    assert declared == {topic for consumer in EVENT_CONSUMERS for topic in consumer.topics}
    for s in subscriptions:
        assert (s["apiVersion"], s["kind"]) == ("dapr.io/v2alpha1", "Subscription")
        assert s["spec"]["routes"]["default"] == f"/events/{s['spec']['topic']}"
        assert s["spec"]["deadLetterTopic"] == "dead-letters"
        assert s["scopes"] == ["todo-notifications"]
    assert declared <= {t.value for t in Topic}  # topic names exactly as the code writes them


def test_the_local_copy_changes_only_addresses_tls_and_secrets(tmp_path: Path) -> None:
    local = render_resources(tmp_path, LocalServers(kafka="127.0.0.1:1", redis="127.0.0.1:2"))
    pubsub = {m["name"]: m.get("value") for m in load(local / "pubsub.yaml")[0]["spec"]["metadata"]}
    cluster = {m["name"]: m.get("value") for m in load(DEPLOY_DAPR / "pubsub.yaml")[0]["spec"]["metadata"]}
    assert pubsub == {**cluster, "brokers": "127.0.0.1:1"}
    state = {m["name"]: m.get("value") for m in load(local / "statestore.yaml")[0]["spec"]["metadata"]}
    assert (state["redisHost"], state["enableTLS"], "redisPassword" in state) == (
        "127.0.0.1:2",
        "false",
        False,
    )
    assert load(local / "subscriptions.yaml") == load(DEPLOY_DAPR / "subscriptions.yaml")
    assert load(DEPLOY_DAPR / "pubsub.yaml")[0]["spec"]["type"] == "pubsub.kafka"  # no pubsub.redpanda type
