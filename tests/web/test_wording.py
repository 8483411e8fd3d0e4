"""The API's refusals as the web UI says them: the form's label, then what is wrong, in plain words."""

from __future__ import annotations

import pytest

from todo.web.wording import problem


@pytest.mark.parametrize(
    ("field", "reason", "said"),
    [
        ("end_date", "must not be before start_date", "Ends must not be before Starts."),
        (
            "0.url",
            "is not a channel URL",
            "URL is not a channel address we know (for example ntfy://my-topic or mailto://you@example.com).",
        ),
        ("recurrence_interval", "Input should be greater than or equal to 1", "Every must be at least 1."),
        ("title", "String should have at least 1 character", "Title cannot be empty."),
        ("title", "String should have at most 200 characters", "Title can have at most 200 characters."),
        (
            "body.start_date",
            "invalid date separator, expected `-`",
            "Starts is not a date and time (pick one, or type it as 2026-12-31 18:00).",
        ),
        ("query.priority", "Input should be less than or equal to 3", "Priority must be at most 3."),
        ("tags.3", "String should have at most 50 characters", "Tags can have at most 50 characters."),
        (
            "timezone",
            "'Mars/Olympus' is not an IANA time zone name (e.g. 'Europe/Berlin')",
            "Timezone 'Mars/Olympus' is not an IANA time zone name (e.g. 'Europe/Berlin').",
        ),
        ("some_new_field", "Field required", "Some new field is required."),
    ],
)
def test_a_refusal_in_words(field: str, reason: str, said: str) -> None:
    assert problem(field, reason) == said
