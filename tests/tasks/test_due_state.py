from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from todo.tasks.due_state import DueState, due_state

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("due", "completed", "expected"),
    [
        (None, False, DueState.none),
        (None, True, DueState.done),
        (NOW - timedelta(days=2), True, DueState.done),
        (NOW - timedelta(microseconds=1), False, DueState.overdue),
        (NOW, False, DueState.overdue),  # its time has come
        (NOW + timedelta(microseconds=1), False, DueState.due_soon),
        (NOW + timedelta(hours=24), False, DueState.due_soon),  # the window is inclusive
        (NOW + timedelta(hours=24, microseconds=1), False, DueState.upcoming),
        (NOW + timedelta(days=30), False, DueState.upcoming),
    ],
)
def test_due_state_boundaries(due: datetime | None, completed: bool, expected: DueState) -> None:
    assert due_state(due=due, completed=completed, now=NOW) is expected
