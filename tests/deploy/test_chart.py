"""The Helm chart, rendered by the real helm (scripts/devstack up tools) and checked as a reviewer of a
production chart would: every container probed, limited and locked down, every Deployment with a PDB and
at least two replicas, no secret value anywhere, and the Dapr files exactly as the local Dapr tests use
them."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import devstack_tool
from tests.deploy.conftest import KUBERNETES_SCHEMA_VERSIONS as VALIDATED_VERSIONS
from tests.deploy.conftest import crd_location, kubeconform_check

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "todo"
DAPR_FILES = sorted((ROOT / "deploy" / "dapr").glob("*.yaml"))
VALUES = [None, "values-doks.yaml", "values-minikube.yaml", "values-local.yaml"]
KUBE_VERSIONS = ["1.29.0", "1.33.0"]


@pytest.fixture(scope="module")
def helm() -> str:
    return devstack_tool("TODO_HELM", "helm", "tools")


def render(
    helm: str, values: str | None, kube_version: str = "1.31.0", *settings: str, chart: Path = CHART
) -> tuple[str, list[dict[str, Any]]]:
    command = [helm, "template", "todo", str(chart), "--namespace", "todo", "--kube-version", kube_version]
    command += [arg for setting in settings for arg in ("--set", setting)]
    if values:
        command += ["-f", str(CHART / values)]
    text = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return text, [doc for doc in yaml.safe_load_all(text) if doc]


@pytest.mark.parametrize("kube_version", VALIDATED_VERSIONS)
@pytest.mark.parametrize("values", VALUES)
def test_the_manifests_are_valid_kubernetes(
    helm: str, kubeconform: str, k8s_schemas: Path, crd_schemas: Path, values: str | None, kube_version: str
) -> None:
    text, docs = render(helm, values, kube_version)
    summary = kubeconform_check(kubeconform, k8s_schemas, crd_schemas, text, kube_version)
    # every object checked against a schema: none skipped, none missing one
    assert f"Valid: {len(docs)}, Invalid: 0, Errors: 0, Skipped: 0" in summary


def test_kubeconform_refuses_a_field_a_custom_resource_does_not_have(
    kubeconform: str, k8s_schemas: Path, crd_schemas: Path
) -> None:
    """The CRD schemas are strict: a misspelt field in a Dapr Subscription fails (so the passes above mean
    something)."""
    wrong = (DAPR_FILES[-1].read_text().split("\n---\n")[0]).replace("deadLetterTopic:", "deadLetterTopik:")
    result = subprocess.run([kubeconform, "-strict", "-schema-location", crd_location(crd_schemas), "-"],
                            input=wrong, capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 1
    assert "deadLetterTopik" in result.stdout


@pytest.mark.parametrize("values", VALUES)
def test_the_chart_lints(helm: str, values: str | None) -> None:
    command = [helm, "lint", "--strict", str(CHART), "--kube-version", "1.31.0"] + (
        ["-f", str(CHART / values)] if values else []
    )
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
@pytest.mark.parametrize("values", VALUES)
def test_every_workload_is_probed_limited_and_locked_down(
    helm: str, values: str | None, kube_version: str
) -> None:
    _, docs = render(helm, values, kube_version)
    deployments = [d for d in docs if d["kind"] == "Deployment"]
    assert {d["metadata"]["name"] for d in deployments} == {
        "todo-backend",
        "todo-notifications",
        "todo-frontend",
    }
    pdbs = {
        tuple(sorted(d["spec"]["selector"]["matchLabels"].items()))
        for d in docs
        if d["kind"] == "PodDisruptionBudget"
    }
    hpas = {d["spec"]["scaleTargetRef"]["name"]: d for d in docs if d["kind"] == "HorizontalPodAutoscaler"}
    for deployment in deployments:
        name, spec = deployment["metadata"]["name"], deployment["spec"]
        replicas = hpas[name]["spec"]["minReplicas"] if name in hpas else spec["replicas"]
        assert replicas >= 2, name
        assert tuple(sorted(spec["selector"]["matchLabels"].items())) in pdbs, (
            f"{name} has no PodDisruptionBudget"
        )
        pod = spec["template"]["spec"]
        annotations = spec["template"]["metadata"]["annotations"]
        assert annotations["dapr.io/enabled"] == "true"
        assert annotations["dapr.io/app-id"] == name
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert pod["automountServiceAccountToken"] is False
        # the autoscaler reads the app container's CPU: a name that is not one would never scale
        [metric] = hpas[name]["spec"]["metrics"]
        assert metric["containerResource"]["container"] in {c["name"] for c in pod["containers"]}
        # the Kafka consumer scales on sustained load only: a pod joining its group pauses every partition
        scale_up = hpas[name]["spec"]["behavior"]["scaleUp"]["stabilizationWindowSeconds"]
        assert scale_up == (60 if name == "todo-notifications" else 0), name
        assert annotations["dapr.io/sidecar-cpu-request"]  # the sidecar's share counts when pods are placed
        for container in pod["containers"]:
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                assert probe in container, f"{name}: no {probe}"
            # readiness of this pod alone: a probe on the shared database would empty the Service at once
            assert container["readinessProbe"]["httpGet"]["path"] == "/healthz", name
            assert set(container["resources"]) == {"requests", "limits"}
            assert {"cpu", "memory"} <= set(container["resources"]["limits"])
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"]["drop"] == ["ALL"]


@pytest.mark.parametrize("values", VALUES)
def test_no_secret_value_is_rendered(helm: str, values: str | None) -> None:
    _, docs = render(helm, values)
    assert [d for d in docs if d["kind"] == "Secret"] == []
    for doc in docs:
        for container in _containers(doc):
            for env in container.get("env", []):
                if any(word in env["name"] for word in ("SECRET", "PASSWORD", "DATABASE_URL", "TOKEN")):
                    assert "value" not in env, f"{env['name']} is written into the manifest"
                    assert "secretKeyRef" in env["valueFrom"]


def test_the_dapr_files_are_byte_for_byte_those_of_the_local_tests(helm: str) -> None:
    text, docs = render(helm, None)
    for path in DAPR_FILES:
        # helm heads each document with "# Source: ...": a file of several is compared document by document
        for document in path.read_text().split("\n---\n"):
            assert document.strip() in text, f"{path.name} is not in the chart as it is"
    kinds = sorted(d["kind"] for d in docs if d.get("apiVersion", "").startswith("dapr.io/"))
    assert kinds == sorted(d["kind"] for p in DAPR_FILES for d in yaml.safe_load_all(p.read_text()) if d)


def test_every_value_is_documented_as_the_bitnami_charts_do() -> None:
    """A `## @param <path> <what it does>` line for every value (readme-generator-for-helm's format),
    none for a value that does not exist."""
    text = (CHART / "values.yaml").read_text()
    documented = {m.group(1) for m in re.finditer(r"^\s*## @param (\S+) \S", text, flags=re.M)}
    values = _paths(yaml.safe_load(text))
    assert documented - set(values) == set(), "documented, but no such value"
    undocumented = {p for p in values if not _leaf_or_documented(p, values, documented)}
    assert undocumented == set()


def _paths(tree: dict[str, Any], prefix: str = "") -> dict[str, bool]:
    """Every key path of `tree`, and whether it is a leaf (not a map with keys)."""
    found: dict[str, bool] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        found[path] = not (isinstance(value, dict) and value)
        if isinstance(value, dict):
            found |= _paths(value, f"{path}.")
    return found


def _leaf_or_documented(path: str, values: dict[str, bool], documented: set[str]) -> bool:
    """A map is fine undocumented (its keys are); a leaf needs its own @param or one of a map above it."""
    parts = path.split(".")
    return not values[path] or any(".".join(parts[:n]) in documented for n in range(1, len(parts) + 1))


def test_a_changed_dapr_component_rolls_the_pods(helm: str, tmp_path: Path) -> None:
    """A sidecar reads its Components at start: an upgrade that changes one must restart the pods, and
    one that changes nothing of them must not."""
    copy = tmp_path / "todo"
    shutil.copytree(CHART, copy)  # the files themselves, not links to deploy/dapr
    pubsub = copy / "files" / "dapr" / "pubsub.yaml"
    pubsub.write_text(pubsub.read_text().replace('value: "1s"', 'value: "2s"', 1))
    assert pubsub.read_text() != (CHART / "files" / "dapr" / "pubsub.yaml").read_text()

    def checksums(*settings: str, chart: Path = CHART) -> dict[str, str]:
        _, docs = render(helm, None, "1.31.0", *settings, chart=chart)
        return {
            d["metadata"]["name"]: d["spec"]["template"]["metadata"]["annotations"]["checksum/dapr-resources"]
            for d in docs
            if d["kind"] == "Deployment"
        }

    before = checksums()
    assert len(before) == 3
    assert checksums("ingress.enabled=true", "rollout.drainSeconds=7") == before
    changed = checksums(chart=copy)
    assert all(changed[name] != before[name] for name in before)


def test_doks_puts_the_web_ui_behind_a_digitalocean_load_balancer(helm: str) -> None:
    _, docs = render(helm, "values-doks.yaml")
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    web = services["todo-frontend"]
    assert web["spec"]["type"] == "LoadBalancer"
    assert (
        web["metadata"]["annotations"]["service.beta.kubernetes.io/do-loadbalancer-healthcheck-path"]
        == "/healthz"
    )
    assert services["todo-backend"]["spec"]["type"] == "ClusterIP"  # only the web UI faces the world


def test_the_migration_runs_as_a_hook_before_install_and_upgrade(helm: str) -> None:
    _, docs = render(helm, None)
    (job,) = [d for d in docs if d["kind"] == "Job"]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]


@pytest.mark.parametrize("values", VALUES)
def test_a_rollout_adds_a_pod_before_it_drains_one(helm: str, values: str | None) -> None:
    """Zero failed requests across an upgrade (proved on the cluster by
    tests/cluster/test_upgrades_and_disruptions.py): no pod leaves before its successor is ready, and a
    leaving one serves through its drain, sidecar too."""
    _, docs = render(helm, values)
    for deployment in (d for d in docs if d["kind"] == "Deployment"):
        name = deployment["metadata"]["name"]
        assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}, name
        pod = deployment["spec"]["template"]
        [app] = pod["spec"]["containers"]
        assert app["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", "5"], name
        assert pod["metadata"]["annotations"]["dapr.io/block-shutdown-duration"] == "5s", name
        assert pod["metadata"]["labels"]["dapr-sidecar"] == "required", name  # see deploy/platform/install.sh
        assert pod["spec"]["terminationGracePeriodSeconds"] >= 5 + 20, name  # the drain, then uvicorn's grace


def _pod_specs(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every pod the chart makes (Deployments, the hook Job, the test Pod), by kind/name."""
    specs = {}
    for doc in docs:
        spec = doc["spec"] if doc["kind"] == "Pod" else doc.get("spec", {}).get("template", {}).get("spec")
        if isinstance(spec, dict) and "containers" in spec:
            specs[f"{doc['kind']}/{doc['metadata']['name']}"] = spec
    return specs


@pytest.mark.parametrize("values", VALUES)
def test_pods_see_no_service_variables_and_sidecars_need_no_api_token(helm: str, values: str | None) -> None:
    """Found on the real cluster: Kubernetes' service links set TODO_NOTIFICATIONS_PORT=tcp://..., which
    our settings read as the port, and daprd's built-in secret store needs the API token our pods do not
    mount; the Dapr operator hands the sidecars the Secrets their components name instead."""
    _, docs = render(helm, values)
    specs = _pod_specs(docs)
    assert set(specs) == {"Deployment/todo-backend", "Deployment/todo-notifications",
                          "Deployment/todo-frontend", "Job/todo-migrate", "Pod/todo-smoke-test"}  # fmt: skip
    for name, spec in specs.items():
        assert spec["enableServiceLinks"] is False, name
        assert spec["automountServiceAccountToken"] is False, name
    for deployment in (d for d in docs if d["kind"] == "Deployment"):
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["dapr.io/disable-builtin-k8s-secret-store"] == "true"


def test_helm_test_runs_the_smoke_check_against_the_api_service(helm: str) -> None:
    _, docs = render(helm, "values-local.yaml")
    (pod,) = [d for d in docs if d["kind"] == "Pod"]
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    (container,) = pod["spec"]["containers"]
    assert container["args"] == ["smoke", "http://todo-backend.todo.svc:80"]
    (password,) = container["env"]
    assert password["valueFrom"]["secretKeyRef"] == {"name": "todo-secrets", "key": "smoke-password"}


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    template = doc.get("spec", {}).get("template", {})
    return list(template.get("spec", {}).get("containers", [])) if isinstance(template, dict) else []


def _policies(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        d["metadata"]["name"].removeprefix("todo-"): d["spec"] for d in docs if d["kind"] == "NetworkPolicy"
    }


def _ports(rules: list[dict[str, Any]], peer: dict[str, Any] | None = None) -> set[int]:
    """The ports the rules open, to `peer` (None: to anyone, i.e. rules without from/to)."""
    opened = set()
    for rule in rules:
        peers = rule.get("from", rule.get("to"))
        applies = peers is None if peer is None else peers is not None and peer in peers
        if applies:
            opened |= {p["port"] for p in rule.get("ports", [])}
    return opened


def test_network_policies_allow_only_the_traffic_the_architecture_needs(helm: str) -> None:
    _, docs = render(helm, None)
    policies = _policies(docs)
    assert set(policies) == {"backend", "notifications", "frontend"}
    labels = {"app.kubernetes.io/name": "todo", "app.kubernetes.io/instance": "todo"}
    frontend_pods = {"podSelector": {"matchLabels": {**labels, "app.kubernetes.io/component": "frontend"}}}
    internet = [r for p in policies.values() for r in p["egress"] if "ipBlock" in r["to"][0]]
    for name, spec in policies.items():
        assert spec["policyTypes"] == ["Ingress", "Egress"], name  # default deny both ways
        dns = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}
        assert _ports(spec["egress"], dns) == {53}, name
    # The web UI is the public entry; nothing else takes traffic from anywhere.
    assert _ports(policies["frontend"]["ingress"]) == {3000}
    assert _ports(policies["backend"]["ingress"]) == set() == _ports(policies["notifications"]["ingress"])
    # Only the web UI's sidecar may invoke the API's sidecar; no one invokes the notifications service.
    assert _ports(policies["backend"]["ingress"], frontend_pods) == {50002}
    smoke_test = {"podSelector": {"matchLabels": {**labels, "app.kubernetes.io/component": "smoke-test"}}}
    assert _ports(policies["backend"]["ingress"], smoke_test) == {8000}  # helm test calls the API
    monitoring = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    (only,) = policies["notifications"][
        "ingress"
    ]  # Prometheus scraping the app and its sidecar, nothing else
    assert only["from"] == [monitoring]
    assert {p["port"] for p in only["ports"]} == {8001, 9090}
    # The web UI holds no database connection and never reaches the broker.
    broker = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "redpanda"}}}
    assert _ports(policies["frontend"]["egress"], broker) == set()
    assert (
        _ports(policies["backend"]["egress"], broker)
        == {9093}
        == _ports(policies["notifications"]["egress"], broker)
    )
    # Only the notifications service goes out to the internet (channels), and not to private ranges.
    outside = [
        r
        for r in internet
        if r["to"][0]["ipBlock"]["cidr"] == "0.0.0.0/0" and "except" in r["to"][0]["ipBlock"]
    ]
    assert len(outside) == 1
    assert outside[0] in policies["notifications"]["egress"]
    assert "10.0.0.0/8" in outside[0]["to"][0]["ipBlock"]["except"]


def test_on_doks_the_databases_are_reached_only_inside_the_vpc(helm: str) -> None:
    _, docs = render(helm, "values-doks.yaml")
    for name, spec in _policies(docs).items():
        blocks = [
            r for r in spec["egress"] if "ipBlock" in r["to"][0] and "except" not in r["to"][0]["ipBlock"]
        ]
        assert blocks, name
        assert {r["to"][0]["ipBlock"]["cidr"] for r in blocks} == {"10.120.0.0/20"}, name


def test_the_ingress_sends_the_api_to_the_backend_and_the_rest_to_the_web_ui(helm: str) -> None:
    _, docs = render(helm, "values-minikube.yaml")
    (ingress,) = [d for d in docs if d["kind"] == "Ingress"]
    (rule,) = ingress["spec"]["rules"]
    routes = {p["path"]: p["backend"]["service"]["name"] for p in rule["http"]["paths"]}
    assert (rule["host"], routes) == ("todo.local", {"/api": "todo-backend", "/": "todo-frontend"})
    _, default = render(helm, None)
    assert [d for d in default if d["kind"] == "Ingress"] == []  # off unless asked for


def test_the_monitoring_objects_carry_the_repository_rules_and_dashboards(helm: str) -> None:
    _, docs = render(helm, None)
    kinds = {d["kind"]: d for d in docs}
    monitoring = ROOT / "deploy" / "monitoring"
    assert kinds["PrometheusRule"]["spec"] == yaml.safe_load((monitoring / "rules.yaml").read_text())
    assert kinds["ServiceMonitor"]["spec"]["endpoints"][0]["port"] == "http"
    assert kinds["PodMonitor"]["spec"]["podMetricsEndpoints"][0]["port"] == "dapr-metrics"
    for monitor in ("PrometheusRule", "ServiceMonitor", "PodMonitor"):
        assert kinds[monitor]["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    dashboards = kinds["ConfigMap"]
    assert dashboards["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert dashboards["data"] == {
        f"todo-{p.name}": p.read_text() for p in sorted((monitoring / "dashboards").glob("*.json"))
    }
    _, minikube = render(helm, "values-minikube.yaml")
    assert not {"PrometheusRule", "ServiceMonitor", "PodMonitor", "ConfigMap"} & {d["kind"] for d in minikube}


def test_the_documented_command_renders_the_full_stack_for_doks(helm: str) -> None:
    """Exactly what docs/operations.md tells an operator to run, without --kube-version."""
    result = subprocess.run([helm, "template", "deploy/helm/todo", "-f", "deploy/helm/todo/values-doks.yaml"],
                            cwd=ROOT, capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stderr
    kinds = sorted(d["kind"] for d in yaml.safe_load_all(result.stdout) if d)
    for kind, count in {"Deployment": 3, "Service": 3, "ServiceAccount": 3, "PodDisruptionBudget": 3,
                        "HorizontalPodAutoscaler": 3, "NetworkPolicy": 3, "Job": 1, "Component": 2,
                        "Configuration": 1, "Resiliency": 1, "Subscription": 7, "ServiceMonitor": 1,
                        "PodMonitor": 1, "PrometheusRule": 1, "ConfigMap": 1}.items():  # fmt: skip
        assert kinds.count(kind) == count, kind


def test_a_mistyped_or_unsafe_value_is_refused_naming_the_field(helm: str) -> None:
    """values.schema.json: helm refuses before rendering anything, and says where."""
    command = [helm, "template", "todo", str(CHART), "--set", "networkPolicy.enable=false",
               "--set", "components.backend.replicaCount=1", "--set", "ingress.host=80"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "at '/networkPolicy': additional properties 'enable' not allowed" in result.stderr
    assert "at '/components/backend/replicaCount': minimum: got 1, want 2" in result.stderr
    assert "at '/ingress/host'" in result.stderr  # a number where a host name belongs
