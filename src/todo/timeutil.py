"""Time zone helpers: instants are UTC inside, wall times belong to a named IANA zone."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


@lru_cache(maxsize=1)
def _by_lowercase() -> dict[str, str]:
    return {zone.lower(): zone for zone in (*_known_zones(), "UTC")}


def canonical_timezone(name: str) -> str | None:
    """The IANA zone `name` means, whatever its case ("europe/berlin" -> "Europe/Berlin"); None if none."""
    return _by_lowercase().get(name.strip().lower())


def timezone_names() -> list[str]:
    """Every IANA zone, sorted: the choices a form offers."""
    return sorted({*_known_zones(), "UTC"})


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def to_utc(moment: datetime, tz_name: str) -> datetime:
    """An aware datetime converted to UTC; a naive one read as wall time in `tz_name`."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(tz_name))
    return moment.astimezone(UTC)
