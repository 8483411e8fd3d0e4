"""CustomResourceDefinitions turned into the JSON schemas kubeconform reads, offline.

A CRD carries an OpenAPI v3 schema per version. kubeconform wants one JSON schema file per kind and version
at `{group}/{kind}_{version}.json`; strict mode only refuses unknown fields where the schema says
`additionalProperties: false`, so that is added to every object that lists its properties and does not ask
to keep unknown fields."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml


class _Loader(yaml.SafeLoader):
    """PyYAML reads a bare `=` (an enum value in the operator's CRDs) as YAML 1.1's 'value' tag; it is the
    string "="."""


_Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def strict(node: Any) -> Any:
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: strict(value) for key, value in node.items()}
    if converted.pop("x-kubernetes-int-or-string", False):
        converted.pop("type", None)
        converted["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if converted.pop("nullable", False) and isinstance(converted.get("type"), str):
        converted["type"] = [converted["type"], "null"]
    keeps_unknown = converted.get("x-kubernetes-preserve-unknown-fields", False)
    if "properties" in converted and "additionalProperties" not in converted and not keeps_unknown:
        converted["additionalProperties"] = False
    return converted


def write_schemas(crd_files: list[Path], target: Path) -> list[str]:
    """Writes every served version of every CRD in the files; returns `group/kind_version` of each."""
    written = []
    for path in crd_files:
        for crd in yaml.load_all(path.read_text(), Loader=_Loader):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"].lower()
            for version in crd["spec"]["versions"]:
                schema = strict(version["schema"]["openAPIV3Schema"])
                name = f"{group}/{kind}_{version['name']}"
                (target / group).mkdir(parents=True, exist_ok=True)
                (target / f"{name}.json").write_text(json.dumps(schema))
                written.append(name)
    return written
