"""Property-based fuzzing of every documented operation: whatever the input, never a 500.

Schemathesis generates requests from our own OpenAPI document and sends them to the app in-process, signed
in as a real user, on SQLite and on PostgreSQL (which refuses some strings SQLite takes, such as NUL).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from tests.conftest import SECRET
from todo.apps import create_api_app
from todo.bootstrap import build_container
from todo.config import Settings
from todo.migrate import upgrade

TOKEN: dict[str, str] = {}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fuzz_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{data_dir / 'fuzz.db'}"
        upgrade(url)
    else:
        url = request.getfixturevalue("postgres_url")  # migrated once per session
    # Each fuzzed call runs on an event loop of its own, so no connection may outlive a call: no pool.
    settings = Settings(
        database_url=url, data_dir=data_dir, jwt_secret=SECRET, log_json=False, db_pool_size=0
    )  # type: ignore[arg-type]
    container = build_container(settings)
    app = create_api_app(container, manage_lifecycle=False)  # schemathesis runs a lifespan per request
    with TestClient(app) as client:
        email = f"fuzz-{uuid.uuid4().hex[:8]}@example.com"
        body = {"email": email, "password": "password123", "timezone": "Europe/Berlin"}
        TOKEN["Authorization"] = (
            "Bearer " + client.post("/api/auth/register", json=body).json()["access_token"]
        )
        client.post("/api/tasks", json={"title": "something to find"}, headers=TOKEN)
        yield app


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_app: FastAPI) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)


def test_no_input_makes_the_api_fail(fuzz_schema: Any) -> None:
    operations = [result.ok() for result in fuzz_schema.get_all_operations()]
    assert len(operations) >= 15  # every route is documented, so every route is fuzzed
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=40,
            deadline=None,
            database=None,
            derandomize=bool(os.environ.get("CI")),  # CI replays a fixed set; laptops explore new inputs
            suppress_health_check=list(HealthCheck),
        )
        def never_a_server_error(case: schemathesis.Case) -> None:
            response = case.call(headers=TOKEN)
            where = f"{case.method} {case.formatted_path}"
            assert response.status_code < 500, f"{where} -> {response.status_code}: {response.text}"
            if response.status_code >= 400 and response.headers.get("content-type") == "application/json":
                error = response.json()["error"]
                assert error["code"], response.text
                assert error["message"], response.text

        never_a_server_error()
