"""The recurring-series form: what a person picks (every 2 weeks on Mon and Wed; monthly on the last
Friday) turned into the API's fields, with an RRULE only when the plain fields cannot say it. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

LAST_DAY = "last-day"  # monthly on the last day of each month (BYMONTHDAY=-1)
WEEKDAYS = (
    ("MO", "Mon"),
    ("TU", "Tue"),
    ("WE", "Wed"),
    ("TH", "Thu"),
    ("FR", "Fri"),
    ("SA", "Sat"),
    ("SU", "Sun"),
)
ORDINALS = (("1", "first"), ("2", "second"), ("3", "third"), ("4", "fourth"), ("-1", "last"))
FREQUENCIES = ("daily", "weekly", "monthly", "yearly")


class SeriesForm(BaseModel):
    """The form's fields, named as the page sends them (FastAPI reads it as a form model)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    title: str = ""
    description: str = ""
    priority: str = "2"
    tags: str = ""
    recurrence_type: str = "weekly"
    interval: str = "1"
    start: str = ""  # datetime-local, wall time in `timezone`
    end: str = ""
    count: str = ""
    timezone: str = ""
    weekdays: list[str] = []  # weekly: MO, TU, ...
    # monthly: "day" (the start's day of month), "last-day" or "<ordinal> <weekday>", e.g. "-1 FR"
    monthly_on: str = "day"
    repeat_from: str = "schedule"  # or "completion"

    @field_validator("weekdays")
    @classmethod
    def _known_days_in_week_order(cls, chosen: list[str]) -> list[str]:
        return [d for d, _ in WEEKDAYS if d in chosen]

    @property
    def from_completion(self) -> bool:
        return self.repeat_from == "completion"

    @classmethod
    def from_series(cls, series: Mapping[str, Any], start_local: str, end_local: str) -> SeriesForm:
        """The form showing a saved series (its times in its timezone, as a `datetime-local` has them)."""
        rule = dict(part.split("=", 1) for part in (series.get("rrule") or "").split(";") if "=" in part)
        byday = [d for d in rule.get("BYDAY", "").split(",") if d]
        weekly = [d for d in byday if d in dict(WEEKDAYS)]
        nth = len(byday) == 1 and byday[0] not in dict(WEEKDAYS)
        monthly = f"{byday[0][:-2]} {byday[0][-2:]}" if nth else "day"
        if rule.get("BYMONTHDAY") == "-1":
            monthly = LAST_DAY
        return cls(
            title=series["title"],
            description=series.get("description") or "",
            priority=str(series["priority"]),
            tags=", ".join(series.get("tags") or []),
            recurrence_type=series["recurrence_type"],
            interval=str(rule.get("INTERVAL", series["recurrence_interval"])),
            start=start_local,
            end=end_local,
            count="" if series.get("count") is None else str(series["count"]),
            timezone=series["timezone"],
            weekdays=weekly,
            monthly_on=monthly,
            repeat_from=series.get("repeat_from") or "schedule",
        )

    def to_api(self) -> dict[str, Any]:
        """The API's fields. Numbers that are not numbers go through as typed: the API names the field."""
        body: dict[str, Any] = {
            "title": self.title,
            "priority": _number(self.priority),
            "tags": [t.strip() for t in self.tags.split(",") if t.strip()],
            "recurrence_type": self.recurrence_type,
            "recurrence_interval": _number(self.interval),
            "start_date": self.start,
            "repeat_from": "completion" if self.from_completion else "schedule",
        }
        optional = {
            "description": self.description,
            "end_date": self.end,
            "timezone": self.timezone,
            "count": _number(self.count) if self.count else "",
            "rrule": self.rrule(),
        }
        body.update({k: v for k, v in optional.items() if v not in ("", None)})
        return body

    def rrule(self) -> str | None:
        interval = f";INTERVAL={self.interval}" if self.interval not in ("", "1") else ""
        if self.recurrence_type == "weekly" and self.weekdays:
            return f"FREQ=WEEKLY{interval};BYDAY={','.join(self.weekdays)}"
        if self.recurrence_type == "monthly" and self.monthly_on == LAST_DAY:
            return f"FREQ=MONTHLY{interval};BYMONTHDAY=-1"
        if self.recurrence_type == "monthly" and self.monthly_on != "day":
            ordinal, _, day = self.monthly_on.partition(" ")
            return f"FREQ=MONTHLY{interval};BYDAY={ordinal}{day}"
        return None


def monthly_choices() -> list[tuple[str, str]]:
    """("-1 FR", "the last Fri") and friends, after "the start's day of the month"."""
    return [("day", "on the start's day of the month"), (LAST_DAY, "on the last day of the month")] + [
        (f"{o} {d}", f"on the {word} {name}") for o, word in ORDINALS for d, name in WEEKDAYS
    ]


def _number(text: str) -> int | str:
    return int(text) if text.lstrip("-").isdigit() else text


def describe(series: Mapping[str, Any]) -> str:
    """`every 2 weeks on Mon, Wed`, `monthly on the last Fri`: a series' rule in words."""
    unit = {"daily": "day", "weekly": "week", "monthly": "month", "yearly": "year"}[series["recurrence_type"]]
    rule = dict(part.split("=", 1) for part in (series.get("rrule") or "").split(";") if "=" in part)
    interval = int(rule.get("INTERVAL", series.get("recurrence_interval") or 1))
    words = f"every {unit}" if interval == 1 else f"every {interval} {unit}s"
    days = dict(WEEKDAYS)
    byday = [d for d in rule.get("BYDAY", "").split(",") if d]
    if byday and all(d in days for d in byday):
        words += " on " + ", ".join(days[d] for d in byday)
    elif len(byday) == 1:
        ordinal, day = byday[0][:-2], byday[0][-2:]
        words += f" on the {dict(ORDINALS).get(ordinal, ordinal)} {days.get(day, day)}"
    if rule.get("BYMONTHDAY") == "-1":
        words += " on the last day"
    if series.get("repeat_from") == "completion":
        words += ", counted from each completion"
    return words
