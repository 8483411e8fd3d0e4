"""The events a webhook can subscribe to, by the names users see: the CloudEvent type without its `todo.`
prefix and version (`task.completed` is `todo.task.completed.v1`). Pure: no I/O."""

from __future__ import annotations

from todo.events.envelope import KINDS, EventKind, Topic


def public_name(type_: str) -> str:
    return type_.removeprefix("todo.").rsplit(".", 1)[0]


NAMES: dict[str, EventKind] = {public_name(kind.type): kind for kind in KINDS.values()}
TOPICS: tuple[Topic, ...] = tuple(sorted({kind.topic for kind in KINDS.values()}, key=lambda t: t.value))
