"""Notification channels through Apprise: one URL per channel (mailto://, json://, ntfy://, slack://...).

The `ChannelSender` port lets the delivery worker and the "send a test" endpoint send without knowing
Apprise; `AppriseSender` is the adapter. Channel URLs carry credentials, so only their masked form
(`describe`) ever leaves the server.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

import apprise


class ChannelError(RuntimeError):
    """The channel did not take the notification; the message says what it answered."""


@dataclass(frozen=True)
class ChannelInfo:
    service: str  # "Email", "JSON", "ntfy", ...
    masked_url: str  # credentials replaced by ****


def describe(url: str) -> ChannelInfo | None:
    """What the URL stands for, or None when Apprise does not understand it."""
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return None
    return ChannelInfo(service=str(plugin.service_name), masked_url=str(plugin.url(privacy=True)))  # type: ignore[no-untyped-call]


class ChannelSender(Protocol):
    async def send(self, url: str, *, title: str, body: str) -> None:
        """Deliver or raise ChannelError."""


class AppriseSender:
    async def send(self, url: str, *, title: str, body: str) -> None:
        notifier = apprise.Apprise()
        if not notifier.add(url):
            raise ChannelError("not a channel URL Apprise understands")
        started = time.perf_counter()
        result = await notifier.async_notify(body=body, title=title)
        if not result:
            raise ChannelError(_reason(result) or f"refused after {time.perf_counter() - started:.1f} s")


def _reason(result: apprise.AppriseResult) -> str:
    """The last warning or error the service logged: usually the HTTP status or the SMTP reply."""
    messages = [
        entry.message
        for service in result
        for entry in service.logs()
        if entry.level.upper() in {"WARNING", "ERROR"}
    ]
    return messages[-1][:500] if messages else ""
