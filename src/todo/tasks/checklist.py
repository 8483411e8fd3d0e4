"""A task's checklist: an ordered list of items, each checked or not, kept with the task as a list of
plain dicts (`{"id", "text", "done"}`). Every operation returns a new list (the stored one is never
changed in place, so the change is seen and written). Pure: no I/O."""

from __future__ import annotations

import secrets
from typing import Any

MOST_ITEMS = 100

Item = dict[str, Any]


class ChecklistError(ValueError):
    """An operation the checklist cannot take; `field` names the input at fault."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field


def fresh(texts: list[str]) -> list[Item]:
    """Items for these texts, none checked (a new task's, or a series' next occurrence's)."""
    if len(texts) > MOST_ITEMS:
        raise ChecklistError("checklist", f"holds at most {MOST_ITEMS} items")
    return [_item(text) for text in texts]


def add(items: list[Item], text: str, position: int | None) -> tuple[list[Item], Item]:
    if len(items) >= MOST_ITEMS:
        raise ChecklistError("text", f"the checklist holds at most {MOST_ITEMS} items")
    item = _item(text)
    at = len(items) if position is None else min(position, len(items))
    return [*items[:at], item, *items[at:]], item


def change(
    items: list[Item], item_id: str, *, text: str | None, done: bool | None, position: int | None
) -> tuple[list[Item], Item]:
    """The item renamed, checked or unchecked, and moved to `position` (0 is the top), as given."""
    index = _index(items, item_id)
    item = dict(items[index])
    if text is not None:
        item["text"] = text
    if done is not None:
        item["done"] = done
    rest = [*items[:index], *items[index + 1 :]]
    at = index if position is None else min(position, len(rest))
    return [*rest[:at], item, *rest[at:]], item


def remove(items: list[Item], item_id: str) -> list[Item]:
    index = _index(items, item_id)
    return [*items[:index], *items[index + 1 :]]


def texts(items: list[Item]) -> list[str]:
    return [item["text"] for item in items]


def _index(items: list[Item], item_id: str) -> int:
    for index, item in enumerate(items):
        if item["id"] == item_id:
            return index
    raise KeyError(item_id)


def _item(text: str) -> Item:
    return {"id": secrets.token_hex(6), "text": text, "done": False}
