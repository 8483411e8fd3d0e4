"""Reading a task typed in plain words: "Pay rent every last day of the month at 9am #home !1".

Tags (`#home`) and a priority (`!1` high .. `!3` low) are our own notation; a repeat ("every ...") is read
by `recurrent` into an RFC 5545 rule, a due time ("tomorrow 18:00", "next friday at 3pm") by `dateparser`,
both in the user's time zone. What they do not understand stays in the title and is said so, never
guessed. Pure: no I/O.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from dateparser.search import search_dates
from dateutil.rrule import rrulestr
from recurrent.event_parser import RecurringEvent

from todo.timeutil import zone

DEFAULT_TIME = time(9, 0)  # a day named without a time: due that morning
_TAG = re.compile(r"(?<!\S)#([\w-]{1,50})")
_PRIORITY = re.compile(r"(?<!\S)!([1-3])(?!\S)")
# Where a repeat may begin; it runs to the end, or to a tag or priority already taken out
_REPEAT_START = re.compile(r"\b(every|each|daily|weekly|monthly|yearly|annually|weekdays)\b", re.IGNORECASE)
_PARTS_OF_THE_START = ("BYHOUR", "BYMINUTE", "BYSECOND", "UNTIL", "COUNT")
_REPEAT_WORD = re.compile(
    r"\d{1,2}(:\d{2})?(am|pm)?|\d+(st|nd|rd|th)?|am|pm|noon|midnight|morning|evening|night"
    r"|every|each|other|and|at|on|in|the|of|to|from|for|until|till|through|starting|times?|except"
    r"|day|days|week|weeks|month|months|year|years|weekday|weekdays|weekend|weekends|daily|weekly|monthly"
    r"|yearly|annually|last|first|second|third|fourth|fifth|one|two|three|four|five|six|seven|eight"
    r"|nine|ten|twelve|mon(day)?s?|tue(s|sday)?s?|wed(nesday)?s?|thu(rs|rsday)?s?|fri(day)?s?"
    r"|sat(urday)?s?|sun(day)?s?|jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?"
    r"|sep(t|tember)?|oct(ober)?|nov(ember)?|dec(ember)?|today|tomorrow|next|this"
)


@dataclass(frozen=True)
class Repeat:
    rrule: str  # without the time of day, UNTIL or COUNT: those are start_date, end_date and count
    start: datetime  # the first occurrence, aware, in the user's zone
    end: datetime | None
    count: int | None


@dataclass
class QuickAdd:
    """What a line of text says: a title, and what was understood besides."""

    title: str
    tags: list[str] = field(default_factory=list)
    priority: int | None = None
    due: datetime | None = None  # aware, in the user's zone
    repeat: Repeat | None = None
    understood: list[tuple[str, str]] = field(default_factory=list)  # (the words, what they were read as)
    not_understood: list[str] = field(default_factory=list)  # words that looked like a date or a repeat


def read(text: str, *, now: datetime, tz_name: str) -> QuickAdd:
    """`text` read at `now` (aware) for a user in `tz_name`."""
    local_now = now.astimezone(zone(tz_name)).replace(tzinfo=None)
    rest, tags, priority = _take_tags_and_priority(text)
    parsed = QuickAdd(title=rest, tags=tags, priority=priority)
    parsed.understood += [(f"#{t}", "tag") for t in tags]
    if priority is not None:
        parsed.understood.append((f"!{priority}", f"priority {priority}"))
    if (start := _repeat_start(rest)) is not None:
        _read_repeat(parsed, start, local_now, tz_name)
    else:
        _read_due(parsed, local_now, tz_name)
    parsed.title = " ".join(parsed.title.split())
    return parsed


def _take_tags_and_priority(text: str) -> tuple[str, list[str], int | None]:
    tags = list(dict.fromkeys(t.lower() for t in _TAG.findall(text)))
    priorities = _PRIORITY.findall(text)
    rest = _PRIORITY.sub(" ", _TAG.sub(" ", text))
    return rest, tags, int(priorities[-1]) if priorities else None


def _repeat_start(text: str) -> int | None:
    """Where the repeat begins: at the first of its words from which every word to the end is a repeat's
    ("Weekly review every friday" at "every"), else at the first such word, to be said not understood.
    The reader skips words it does not know: a phrase with any ("every page of the book") is left alone
    rather than read in part and the rest lost."""
    starts = [found.start() for found in _REPEAT_START.finditer(text)]
    known = (start for start in starts if _all_known(text[start:]))
    return next(known, starts[0] if starts else None)


def _all_known(words: str) -> bool:
    return all(_REPEAT_WORD.fullmatch(w) for w in words.lower().replace(",", " ").split())


def _read_repeat(parsed: QuickAdd, start: int, local_now: datetime, tz_name: str) -> None:
    words = parsed.title[start:].strip()
    repeat = _repeat(words, local_now, tz_name) if _all_known(words) else None
    if repeat is None:
        parsed.not_understood.append(words)
        return
    parsed.repeat = repeat
    parsed.title = parsed.title[:start]
    parsed.understood.append((words, f"repeats {repeat.rrule}, first {repeat.start.isoformat()}"))


def _repeat(words: str, local_now: datetime, tz_name: str) -> Repeat | None:
    reader = RecurringEvent(now_date=local_now)
    try:
        with warnings.catch_warnings():  # its parsedatetime calls warn of a style change, on every call
            warnings.simplefilter("ignore", DeprecationWarning)
            rule = reader.parse(words)
    except Exception:  # the library raises assorted errors on odd input: not understood
        return None
    if not reader.is_recurring or not isinstance(rule, str):
        return None
    parts = dict(p.split("=", 1) for p in rule.removeprefix("RRULE:").split(";") if "=" in p)
    at = _clock_time(words) or time(
        int(parts.get("BYHOUR", DEFAULT_TIME.hour)), int(parts.get("BYMINUTE", DEFAULT_TIME.minute))
    )
    kept = ";".join(f"{k}={v}" for k, v in parts.items() if k not in _PARTS_OF_THE_START)
    tz = zone(tz_name)
    end = _until(parts.get("UNTIL"))
    seed = datetime.combine(local_now.date(), at)  # the rule's first day from its next such time on
    if seed <= local_now:
        seed += timedelta(days=1)
    try:
        first = rrulestr(kept, dtstart=seed).after(seed, inc=True)
    except (ValueError, KeyError, IndexError):
        return None
    if first is None or (end is not None and first > end):
        return None
    count = int(parts["COUNT"]) if parts.get("COUNT", "").isdigit() else None
    return Repeat(kept, first.replace(tzinfo=tz), None if end is None else end.replace(tzinfo=tz), count)


_CLOCK = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b(?!\s*(am|pm)\b)", re.IGNORECASE)


def _clock_time(words: str) -> time | None:
    """A time written on the 24-hour clock ("at 6:30", "at 18:00"): as written. The repeat reader takes
    an early hour without am or pm for the evening ("daily at 6:30" at 18:30)."""
    found = _CLOCK.search(words)
    return None if found is None else time(int(found.group(1)), int(found.group(2)))


def _until(value: str | None) -> datetime | None:
    """RRULE's UNTIL (a date, as the library writes it): to the end of that day, which is included."""
    if not value:
        return None
    try:
        day = datetime.strptime(value[:8], "%Y%m%d")
    except ValueError:
        return None
    return day + timedelta(days=1, microseconds=-1)


def _read_due(parsed: QuickAdd, local_now: datetime, tz_name: str) -> None:
    settings = {"PREFER_DATES_FROM": "future", "RELATIVE_BASE": local_now, "RETURN_AS_TIMEZONE_AWARE": False}
    try:
        found = search_dates(parsed.title, languages=["en"], settings=settings) or []
    except Exception:  # as above: an error is words not understood
        found = []
    if not found:
        return
    words, moment = found[-1]  # the last date named: "Call Anna on Monday about Friday's party" is rare
    if not _says_a_time(words):
        moment = datetime.combine(moment.date(), DEFAULT_TIME)
    parsed.due = moment.replace(tzinfo=zone(tz_name))
    cut = parsed.title.rfind(words)
    parsed.title = parsed.title[:cut] + parsed.title[cut + len(words) :]
    parsed.understood.append((words, f"due {parsed.due.isoformat()}"))


_TIME_OF_DAY = re.compile(
    r"\d{1,2}:\d{2}|\d{1,2}\s*(am|pm)\b|\b(noon|midnight|tonight|morning|afternoon|evening)\b"
    r"|\bin \d+ (hours?|minutes?)\b",
    re.IGNORECASE,
)


def _says_a_time(words: str) -> bool:
    """Whether the words name a time of day (or a span of hours from now) rather than only a day."""
    return _TIME_OF_DAY.search(words) is not None
