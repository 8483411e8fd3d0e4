"""Input field types shared by several domains."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field

EARLIEST_YEAR, LATEST_YEAR = 1900, 9000


def _within_range(moment: datetime) -> datetime:
    # Far-out years overflow when converted between zones (year 1 minus an offset is year 0).
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise ValueError(f"year must be between {EARLIEST_YEAR} and {LATEST_YEAR}")
    return moment


Moment = Annotated[datetime, AfterValidator(_within_range)]
"""A datetime a user typed: ISO 8601, with or without an offset, within years 1900-9000."""


def _no_nul(text: str) -> str:
    # PostgreSQL cannot store U+0000 in text or JSON; refuse it here instead of failing at the database.
    if "\x00" in text:
        raise ValueError("must not contain the NUL character (U+0000)")
    return text


NoNul = AfterValidator(_no_nul)
Text = Annotated[str, NoNul]
"""A string a user typed, storable in every database we support. With StringConstraints, write
`Annotated[str, StringConstraints(...), NoNul]` instead, so that stripping comes before length checks."""


DEFAULT_REMINDER_MINUTES = (1440, 0)  # a day before, and at the due time
MAX_REMINDER_MINUTES = 60 * 24 * 366


def _distinct_latest_last(minutes: list[int]) -> list[int]:
    return sorted(set(minutes), reverse=True)


ReminderMinutes = Annotated[
    list[Annotated[int, Field(ge=0, le=MAX_REMINDER_MINUTES)]],
    Field(
        max_length=10,
        description="Minutes before the due time to remind; 0 is at the due time",
        examples=[[1440, 60, 0]],
    ),
    AfterValidator(_distinct_latest_last),
]
