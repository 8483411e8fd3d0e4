"""Fixtures of the deployment tests: the tools scripts/devstack builds, and the schemas kubeconform checks
against (Kubernetes' own, offline from PyPI; the custom resources', from their projects' CRDs)."""

from __future__ import annotations

import importlib.resources
import subprocess
from pathlib import Path

import pytest

from tests.conftest import devstack_tool
from tests.deploy.crd_schemas import write_schemas
from tests.notifications.test_channels import webhooks  # noqa: F401 (a fixture: webhook servers on loopback)

KUBERNETES_SCHEMA_VERSIONS = ["1.29.0", "1.30.0", "1.31.0", "1.32.0", "1.33.0"]
KAGENT_CRDS = Path(__file__).with_name("kagent-crds.yaml")


@pytest.fixture(scope="session")
def kubeconform() -> str:
    return devstack_tool("TODO_KUBECONFORM", "kubeconform", "tools")


@pytest.fixture(scope="session")
def k8s_schemas(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The strict Kubernetes schemas of PyPI's kubernetes-validate, offline. Each refers to its version's
    `/api/_definitions.json`; kubeconform reads files, so that reference becomes this copy's file URL."""
    source = importlib.resources.files("kubernetes_validate") / "kubernetes-json-schema"
    target = tmp_path_factory.mktemp("k8s-schemas")
    for version in KUBERNETES_SCHEMA_VERSIONS:
        folder = target / f"v{version}-local-strict"
        folder.mkdir()
        definitions = f"file://{folder}/_definitions.json"
        for schema in (source / f"v{version}-local-strict").iterdir():
            text = schema.read_text().replace('"/api/_definitions.json', f'"{definitions}')
            (folder / schema.name).write_text(text)
    return target


@pytest.fixture(scope="session")
def crd_schemas(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """JSON schemas of the custom resources we render: Dapr's and the Prometheus operator's CRDs from their
    Go modules (scripts/devstack up tools), kagent's from tests/deploy/kagent-crds.yaml."""
    sources = Path(devstack_tool("TODO_SCHEMAS", "the CRD schemas", "tools"))
    target = tmp_path_factory.mktemp("crd-schemas")
    written = write_schemas([*sorted((sources / "crds").glob("*.yaml")), KAGENT_CRDS], target)
    expected = {"dapr.io/component_v1alpha1", "dapr.io/subscription_v2alpha1",
                "monitoring.coreos.com/prometheusrule_v1", "kagent.dev/agent_v1alpha2"}  # fmt: skip
    assert expected <= set(written)
    return target


def crd_location(crd_schemas: Path) -> str:
    """kubeconform's -schema-location for the custom resources' schemas."""
    return f"{crd_schemas}/{{{{.Group}}}}/{{{{.ResourceKind}}}}_{{{{.ResourceAPIVersion}}}}.json"


def kubeconform_check(
    kubeconform: str, k8s_schemas: Path, crd_schemas: Path, text: str, kube_version: str
) -> str:
    """Validates every document strictly, refusing any kind without a schema; returns the summary."""
    location = f"{k8s_schemas}/{{{{.NormalizedKubernetesVersion}}}}-local{{{{.StrictSuffix}}}}/"
    location += "{{.ResourceKind}}{{.KindSuffix}}.json"
    command = [kubeconform, "-strict", "-summary", "-kubernetes-version", kube_version,
               "-schema-location", location, "-schema-location", crd_location(crd_schemas), "-"]  # fmt: skip
    result = subprocess.run(command, input=text, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout
