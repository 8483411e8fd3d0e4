"""The API's refusals in words a person reads, with the labels the forms show. Pure, no I/O.

The API answers each bad field with its name and a precise reason (`end_date`, "must not be before
start_date"; `recurrence_interval`, "Input should be greater than or equal to 1"), which suits a program.
A page says "Ends must not be before Starts." instead.
"""

from __future__ import annotations

import re

# The API's field names, as the web UI's forms label them.
LABELS = {
    "title": "Title",
    "text": "New task",  # quick add's one box
    "description": "Description",
    "priority": "Priority",
    "due_date": "Due",
    "tags": "Tags",
    "reminder_minutes": "Reminders",
    "quiet_hours": "Quiet hours",
    "start": "From",
    "end": "Until",
    "minutes": "Remind me again in",
    "recurrence_type": "Repeats",
    "recurrence_interval": "Every",
    "start_date": "Starts",
    "end_date": "Ends",
    "count": "After",
    "timezone": "Timezone",
    "weekdays": "On",
    "by_setpos": "Monthly",
    "by_monthday": "Monthly",
    "display_name": "Display name",
    "url": "URL",
    "label": "Label",
    "email": "Email",
    "password": "Password",
    "current_password": "Current password",
    "new_password": "New password",
    "due": "Due",
    "status": "Status",
    "sort": "Sort",
    "tag": "Tag",
    "q": "Search",
}

_DATE = "is not a date and time (pick one, or type it as 2026-12-31 18:00)"
# Pydantic's messages (and our own) -> the same thing said plainly; the first that matches is used.
_IN_WORDS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p, re.IGNORECASE), words)
    for p, words in (
        (r"^Input should be greater than or equal to (\S+)$", r"must be at least \1"),
        (r"^Input should be greater than (\S+)$", r"must be more than \1"),
        (r"^Input should be less than or equal to (\S+)$", r"must be at most \1"),
        (r"^Input should be less than (\S+)$", r"must be less than \1"),
        (r"^String should have at least 1 character$", "cannot be empty"),
        (r"^String should have at least (\d+) characters$", r"needs at least \1 characters"),
        (r"^String should have at most (\d+) characters$", r"can have at most \1 characters"),
        (r"^List should have at most (\d+) items?.*$", r"can have at most \1"),
        (r"^Field required$", "is required"),
        (r"^Input should be a valid integer.*$", "must be a whole number"),
        (r"^Input should be a valid (datetime|date)\b.*$", _DATE),
        (r"^(invalid (date|time|datetime)|input is too short|Input should have timezone info).*$", _DATE),
        (r"^value is not a valid email address.*$", "is not an email address"),
        (r"^Input should be (('[^']+'(, | or )?)+)$", r"must be one of \1"),
        (
            r"^is not a channel URL$",
            "is not a channel address we know (for example ntfy://my-topic or mailto://you@example.com)",
        ),
    )
]
_FIELD_NAMES = re.compile(r"\b(" + "|".join(sorted(LABELS, key=len, reverse=True)) + r")\b")


def label(field: str) -> str:
    """`body.end_date`, `0.url`, `tags.3`, `query.priority` -> the label of the form field."""
    names = [part for part in field.split(".") if part not in ("body", "query") and not part.isdigit()]
    name = names[-1] if names else field
    return LABELS.get(name, name.replace("_", " ").capitalize())


def reason_in_words(reason: str) -> str:
    for pattern, words in _IN_WORDS:
        if pattern.match(reason):
            plain = pattern.sub(words, reason)
            break
    else:
        plain = reason
    # Other fields a reason mentions ("must not be before start_date") by their labels too; only
    # snake_case names, so that ordinary words ("title", "count") are left alone.
    return _FIELD_NAMES.sub(lambda m: LABELS[m[1]] if "_" in m[1] else m[1], plain)


def problem(field: str, reason: str) -> str:
    """One bad field, as a sentence: "Ends must not be before Starts." """
    return f"{label(field)} {reason_in_words(reason)}."
