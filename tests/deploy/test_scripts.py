"""The deployment scripts (deploy/doks, deploy/platform): their --dry-run prints every command a real run
would make, in order, and needs none of the tools; the values they share with the chart agree."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from todo.events.envelope import Topic

ROOT = Path(__file__).resolve().parents[2]
BARE_PATH = {"PATH": "/usr/bin:/bin"}  # no doctl, helm or kubectl here: a dry run must not call them


def dry_run(script: str, *args: str) -> list[str]:
    result = subprocess.run([str(ROOT / script), "--dry-run", *args], capture_output=True, text=True,
                            env=BARE_PATH)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # everything on one stream, in order
    return result.stderr.splitlines()


def commands(lines: list[str]) -> list[str]:
    return [line.removeprefix("+ ") for line in lines if line.startswith("+ ")]


def test_provisioning_creates_cluster_registry_and_databases_in_one_vpc() -> None:
    run = commands(dry_run("deploy/doks/provision.sh", "--region", "ams3"))
    tools = [c.split()[0] + " " + c.split()[1] for c in run]
    assert tools[:2] == ["doctl vpcs", "doctl kubernetes"]  # the VPC first: everything else lives in it
    (cluster,) = [c for c in run if c.startswith("doctl kubernetes cluster create")]
    assert "--region ams3" in cluster
    assert "--vpc-uuid <vpc-id>" in cluster
    assert "count=3;auto-scale=true;min-nodes=2;max-nodes=5" in cluster
    assert "doctl kubernetes cluster registry add todo" in run
    databases = [c for c in run if c.startswith("doctl databases create")]
    assert [d.split()[3] for d in databases] == ["todo-pg", "todo-valkey"]
    assert all("--private-network-uuid <vpc-id>" in d for d in databases)
    firewalls = [c for c in run if "firewalls append" in c]
    assert firewalls == [
        "doctl databases firewalls append <pg-id> --rule k8s:<cluster-id>",
        "doctl databases firewalls append <valkey-id> --rule k8s:<cluster-id>",
    ]


def test_provisioning_writes_the_secrets_the_chart_and_dapr_read_without_printing_them() -> None:
    lines = dry_run("deploy/doks/provision.sh")
    secrets = {c.split()[6]: c.split("# keys: ")[1].split() for c in commands(lines) if "create secret" in c}
    values = yaml.safe_load((ROOT / "deploy/helm/todo/values.yaml").read_text())
    statestore = yaml.safe_load((ROOT / "deploy/dapr/statestore.yaml").read_text())
    dapr_keys = {m["secretKeyRef"]["key"] for m in statestore["spec"]["metadata"] if "secretKeyRef" in m}
    assert secrets == {
        values["existingSecret"]: ["database-url", "jwt-secret"],
        "todo-valkey": sorted(dapr_keys),
        values["dapr"]["apiTokenSecret"]: ["token"],  # the key daprd reads its API token from
    }
    assert not any(re.search(r"(password|secret)=\S", line) for line in lines)


def test_the_vpc_range_is_the_one_the_network_policies_allow() -> None:
    (vpc,) = [c for c in commands(dry_run("deploy/doks/provision.sh")) if c.startswith("doctl vpcs create")]
    doks = yaml.safe_load((ROOT / "deploy/helm/todo/values-doks.yaml").read_text())
    assert f"--ip-range {doks['networkPolicy']['database']['cidr']}" in vpc


def test_teardown_deletes_everything_provisioning_creates() -> None:
    run = commands(dry_run("deploy/doks/teardown.sh"))
    deleted = [c for c in run if " delete " in c]
    assert deleted == [
        "doctl kubernetes cluster delete todo --dangerous --force",
        "doctl databases delete <pg-id> --force",
        "doctl databases delete <valkey-id> --force",
        "doctl registry delete todo-app --force",
        "doctl vpcs delete <vpc-id> --force",
    ]


def test_the_platform_gets_pinned_charts_and_every_topic_with_three_replicas() -> None:
    run = commands(dry_run("deploy/platform/install.sh"))
    installs = {c.split()[3]: c for c in run if c.startswith("helm upgrade --install")}
    assert set(installs) == {"dapr", "redpanda", "kube-prometheus-stack"}
    assert all(re.search(r"--version \d+\.\d+\.\d+ ", c) for c in installs.values())  # pinned, not latest
    daprd = re.search(r"github.com/dapr/dapr v(\S+)", (ROOT / "scripts/daprd/go.mod").read_text())
    assert daprd is not None
    assert f"--version {daprd[1]} " in installs["dapr"]  # the control plane the tested daprd belongs to
    assert "global.mtls.enabled=true" in installs["dapr"]
    # a pod of ours is not created without its sidecar; the control plane's own pods are not held
    assert "dapr_sidecar_injector.webhookFailurePolicy=Fail" in installs["dapr"]
    assert '{"matchLabels":{"dapr-sidecar":"required"}}' in installs["dapr"]
    created = {c.split()[11]: c for c in run if "rpk topic create" in c}
    assert set(created) == {t.value for t in Topic} | {"dead-letters"}
    assert all("--replicas 3" in c and "min.insync.replicas=2" in c for c in created.values())


def test_redpanda_is_where_the_dapr_component_and_the_network_policies_expect_it() -> None:
    redpanda = yaml.safe_load((ROOT / "deploy/platform/redpanda-values.yaml").read_text())
    assert redpanda["statefulset"]["replicas"] == 3
    assert redpanda["storage"]["persistentVolume"]["enabled"] is True
    pubsub = yaml.safe_load((ROOT / "deploy/dapr/pubsub.yaml").read_text())
    brokers = next(m["value"] for m in pubsub["spec"]["metadata"] if m["name"] == "brokers").split(",")
    assert [b.split(".")[0] for b in brokers] == ["redpanda-0", "redpanda-1", "redpanda-2"]
    port = yaml.safe_load((ROOT / "deploy/helm/todo/values.yaml").read_text())["networkPolicy"]["broker"][
        "port"
    ]
    assert {int(b.rsplit(":", 1)[1]) for b in brokers} == {port}


def test_a_real_run_without_the_tools_says_what_is_missing() -> None:
    result = subprocess.run([str(ROOT / "deploy/doks/provision.sh")], capture_output=True, text=True,
                            env=BARE_PATH)  # fmt: skip
    assert result.returncode == 1
    assert "doctl is not installed" in result.stderr


def test_an_unknown_argument_is_refused_with_the_usage() -> None:
    result = subprocess.run([str(ROOT / "deploy/platform/install.sh"), "--dryrun"], capture_output=True,
                            text=True, env=BARE_PATH)  # fmt: skip
    assert result.returncode == 1
    assert "unknown argument: --dryrun" in result.stderr
    assert "deploy/platform/install.sh [--dry-run]" in result.stderr
