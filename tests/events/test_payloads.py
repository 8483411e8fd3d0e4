"""Each event type's payload: written by its producer as the contract says, read once per event, a
breach of it dropped naming the field, and a v1 contract that only grows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.conftest import announce
from tests.events.test_consumers import task_event
from todo.bootstrap import Container
from todo.events.envelope import KINDS, TASK_DUE, CloudEvent, MalformedEvent
from todo.events.models import TaskEvent
from todo.events.outbox import NewEvent
from todo.events.payloads import DuePayload, EventPayload, SeriesPayload, TaskPayload

V1_CONTRACTS = Path(__file__).with_name("payloads_v1.json")


async def test_every_event_carries_its_types_payload_as_written(
    container: Container, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    body = {
        "title": "Pay rent",
        "due_date": "2026-07-01T09:00:00Z",
        "tags": ["home"],
        "reminder_minutes": [60],
    }
    task = (await client.post("/api/tasks", json=body, headers=auth)).json()
    assert (await client.post(f"/api/tasks/{task['id']}/complete", headers=auth)).status_code == 200
    series = {"title": "Standup", "recurrence_type": "daily", "start_date": "2026-07-01T09:30:00Z"}
    assert (await client.post("/api/recurring-tasks", json=series, headers=auth)).status_code == 201
    await announce(container, TASK_DUE, task["id"])

    async with container.sessions() as session:
        rows = (await session.scalars(select(TaskEvent).order_by(TaskEvent.seq))).all()
    payloads = {row.type: KINDS[row.type].payload.model_validate(row.data) for row in rows}
    kinds = {type_: type(p) for type_, p in payloads.items()}
    expected = {
        "todo.task.created.v1": TaskPayload,
        "todo.task.completed.v1": TaskPayload,
        "todo.recurring_task.created.v1": SeriesPayload,
        "todo.task.due.v1": DuePayload,
    }
    assert kinds.items() >= expected.items()
    created, completed = payloads["todo.task.created.v1"], payloads["todo.task.completed.v1"]
    assert isinstance(created, TaskPayload)
    assert isinstance(completed, TaskPayload)
    assert (str(created.id), created.title, created.tags, created.reminder_minutes) == (
        task["id"], "Pay rent", ["home"], [60]
    )  # fmt: skip
    assert (completed.completed, completed.version) == (True, created.version + 1)
    assert "due_state" not in rows[0].data  # the API's answer depends on the reader's clock; events do not


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"title": None}, "data.title"),
        ({"due_date": "2026-07-01T09:00:00"}, "data.due_date"),  # no offset: whose 9 o'clock?
        ({"reminder_minutes": [30, -5]}, "data.reminder_minutes.1"),
        ({"priority": "high"}, "data.priority"),
        ({"completed": "yes"}, "data.completed"),
    ],
)
def test_a_payload_that_breaks_its_contract_is_malformed_naming_the_field(
    data: dict[str, Any], where: str
) -> None:
    event = task_event(2, **data)
    with pytest.raises(MalformedEvent, match=rf"^{where} "):
        event.payload  # noqa: B018


def test_a_payload_is_read_once_and_only_as_its_types() -> None:
    event = task_event(1)
    assert event.payload is event.payload_as(TaskPayload)  # the consumers of one delivery share it
    with pytest.raises(MalformedEvent, match="carries no SeriesPayload"):
        event.payload_as(SeriesPayload)
    unknown = CloudEvent(id="1", source="s", type="todo.task.renamed.v9", subject="", time="", topic="t")
    with pytest.raises(MalformedEvent, match="unknown event type"):
        unknown.payload  # noqa: B018


def test_an_event_is_written_only_with_its_kinds_payload() -> None:
    plain = task_event(1).payload_as(TaskPayload)
    with pytest.raises(TypeError, match="carries a DuePayload"):
        NewEvent(TASK_DUE, entity="task", subject=plain.id, payload=plain)


def test_the_v1_contracts_only_grow() -> None:
    """A field of a v1 payload keeps its name and its schema for as long as v1 is written; a change to
    one is a new type version (`...v2`), with consumers of both for a while. New optional fields are
    fine: readers ignore what they do not know."""
    recorded: dict[str, dict[str, Any]] = json.loads(V1_CONTRACTS.read_text())
    for model in (TaskPayload, DuePayload, SeriesPayload):
        now = _fields(model)
        for name, schema in recorded[model.__name__].items():
            assert now.get(name) == schema, f"{model.__name__}.{name} changed: that needs a v2 type"


def _fields(model: type[EventPayload]) -> dict[str, Any]:
    """Each field's JSON Schema, the nested models' fields (`ReminderSent.late`) too."""
    schema = model.model_json_schema()
    fields = _properties(schema)
    for name, nested in schema.get("$defs", {}).items():
        fields |= {f"{name}.{field}": value for field, value in _properties(nested).items()}
    return fields


def _properties(schema: dict[str, Any]) -> dict[str, Any]:
    required = set(schema.get("required", ()))
    return {
        name: {k: v for k, v in field.items() if k not in ("title", "description")}
        | {"required": name in required}
        for name, field in schema["properties"].items()
    }


if __name__ == "__main__":  # record the contracts anew (`python -m tests.events.test_payloads`): a reviewed
    # change, for fields added to v1; a field removed or changed is a new version
    contracts = {m.__name__: _fields(m) for m in (TaskPayload, DuePayload, SeriesPayload)}
    V1_CONTRACTS.write_text(json.dumps(contracts, indent=2, sort_keys=True) + "\n")
