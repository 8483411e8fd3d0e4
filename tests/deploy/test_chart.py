"""The Helm chart, rendered by the real helm (scripts/devstack up tools) and checked as a reviewer of a
production chart would: every container probed, limited and locked down, every Deployment with a PDB and
at least two replicas, no secret value anywhere, and the Dapr files exactly as the local Dapr tests use
them."""

from __future__ import annotations

import importlib.resources
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import devstack_tool

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "todo"
DAPR_FILES = sorted((ROOT / "deploy" / "dapr").glob("*.yaml"))
VALUES = [None, "values-doks.yaml", "values-minikube.yaml"]
KUBE_VERSIONS = ["1.29.0", "1.33.0"]
VALIDATED_VERSIONS = ["1.29.0", "1.30.0", "1.31.0", "1.32.0", "1.33.0"]
DAPR_KINDS = "Component,Configuration,Resiliency,Subscription"  # CRDs: Kubernetes' own schemas lack them


@pytest.fixture(scope="module")
def helm() -> str:
    return devstack_tool("TODO_HELM", "helm", "tools")


def render(helm: str, values: str | None, kube_version: str = "1.31.0") -> tuple[str, list[dict[str, Any]]]:
    command = [helm, "template", "todo", str(CHART), "--namespace", "todo", "--kube-version", kube_version]
    if values:
        command += ["-f", str(CHART / values)]
    text = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return text, [doc for doc in yaml.safe_load_all(text) if doc]


@pytest.fixture(scope="module")
def kubeconform() -> str:
    return devstack_tool("TODO_KUBECONFORM", "kubeconform", "tools")


@pytest.fixture(scope="module")
def k8s_schemas(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The strict Kubernetes schemas of PyPI's kubernetes-validate, offline. Each refers to its version's
    `/api/_definitions.json`; kubeconform reads files, so that reference becomes this copy's file URL."""
    source = importlib.resources.files("kubernetes_validate") / "kubernetes-json-schema"
    target = tmp_path_factory.mktemp("k8s-schemas")
    for version in VALIDATED_VERSIONS:
        folder = target / f"v{version}-local-strict"
        folder.mkdir()
        definitions = f"file://{folder}/_definitions.json"
        for schema in (source / f"v{version}-local-strict").iterdir():
            text = schema.read_text().replace('"/api/_definitions.json', f'"{definitions}')
            (folder / schema.name).write_text(text)
    return target


@pytest.mark.parametrize("kube_version", VALIDATED_VERSIONS)
@pytest.mark.parametrize("values", VALUES)
def test_the_manifests_are_valid_kubernetes(
    helm: str, kubeconform: str, k8s_schemas: Path, values: str | None, kube_version: str
) -> None:
    text, _ = render(helm, values, kube_version)
    location = f"{k8s_schemas}/{{{{.NormalizedKubernetesVersion}}}}-local{{{{.StrictSuffix}}}}/"
    location += "{{.ResourceKind}}{{.KindSuffix}}.json"
    command = [kubeconform, "-strict", "-summary", "-kubernetes-version", kube_version,
               "-schema-location", location, "-skip", DAPR_KINDS, "-"]  # fmt: skip
    result = subprocess.run(command, input=text, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Invalid: 0, Errors: 0" in result.stdout
    assert (
        "Valid: 16," in result.stdout
    )  # every Kubernetes object was checked, none skipped for lack of schema


@pytest.mark.parametrize("values", VALUES)
def test_the_chart_lints(helm: str, values: str | None) -> None:
    command = [helm, "lint", str(CHART), "--kube-version", "1.31.0"] + (
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
        for container in pod["containers"]:
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                assert probe in container, f"{name}: no {probe}"
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


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    template = doc.get("spec", {}).get("template", {})
    return list(template.get("spec", {}).get("containers", [])) if isinstance(template, dict) else []
