"""Health, readiness, metrics, request ids, the error shape and the OpenAPI document."""

from __future__ import annotations

import re
from pathlib import Path

import httpx


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready", "checks": {"database": "ok"}})


async def test_metrics_expose_latency_events_and_backlog(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    await client.post("/api/tasks", json={"title": "measured"}, headers=auth)
    text = (await client.get("/metrics")).text
    assert (
        'todo_http_request_duration_seconds_bucket{le="0.005",method="POST",route="/api/tasks",status="201"}'
        in text
    )
    assert 'todo_events_written_total{topic="task-created"}' in text
    assert "todo_outbox_backlog " in text
    assert "todo_outbox_oldest_age_seconds " in text


async def test_request_id_is_echoed_or_made(client: httpx.AsyncClient) -> None:
    given = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = await client.get("/api/tasks")
    assert len(made.headers["x-request-id"]) == 32
    assert made.json()["request_id"] == made.headers["x-request-id"]


async def test_unknown_route_and_wrong_method_use_the_error_shape(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/nothing-here")
    assert missing.status_code == 404
    assert set(missing.json()["error"]) == {"status", "code", "message", "fields"}
    wrong = await client.delete("/api/tasks")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (405, "method_not_allowed")


async def test_openapi_documents_the_contract_with_examples(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    paths = spec["paths"]
    for path in (
        "/api/tasks",
        "/api/tasks/{task_id}",
        "/api/recurring-tasks",
        "/api/recurring-tasks/{series_id}",
        "/api/recurring-tasks/{series_id}/occurrences",
        "/api/stats",
        "/api/me",
        "/api/auth/login",
    ):
        assert path in paths, path
    login_body = paths["/api/auth/login"]["post"]["requestBody"]["content"]
    assert {"application/json", "application/x-www-form-urlencoded"} <= set(login_body)
    series_schema = spec["components"]["schemas"]["RecurringTaskCreate"]
    assert series_schema["examples"][0]["recurrence_type"] == "weekly"


API_REFERENCE = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()


async def test_the_api_reference_names_every_endpoint(client: httpx.AsyncClient) -> None:
    """docs/api.md lists each method and path the OpenAPI document has, and none it does not."""
    spec = (await client.get("/openapi.json")).json()
    served = {f"{method.upper()} {path}" for path, methods in spec["paths"].items() for method in methods}
    named = set(re.findall(r"^\| `((?:GET|POST|PUT|PATCH|DELETE) [^`]+)`", API_REFERENCE, flags=re.MULTILINE))
    assert served - named == set()
    assert named - served == {"GET /metrics"}  # served beside the API's own routes, not in its contract
