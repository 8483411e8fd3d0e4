"""Notification channels through Apprise: one URL per channel (mailto://, json://, ntfy://, slack://...).

`AppriseSender` is the adapter of the `sending.ChannelSender` port; only bootstrap chooses it.
"""

from __future__ import annotations

import time

import apprise

from todo.notifications.egress import EgressPolicy, RefusedTarget, check_host, guarded
from todo.notifications.sending import ChannelError, ChannelInfo


def describe(url: str) -> ChannelInfo | None:
    """What the URL stands for to Apprise, or None when Apprise does not understand it."""
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return None
    return ChannelInfo(service=str(plugin.service_name), masked_url=str(plugin.url(privacy=True)))  # type: ignore[no-untyped-call]


class AppriseSender:
    """The `ChannelSender` adapter: Apprise, behind the egress policy."""

    def __init__(self, egress: EgressPolicy | None = None) -> None:
        self.egress = egress or EgressPolicy()

    def describe(self, url: str) -> ChannelInfo | None:
        return describe(url)

    async def check(self, url: str) -> None:
        plugin = apprise.Apprise.instantiate(url)
        if plugin is not None:
            await self._check_hosts(plugin)

    async def send(self, url: str, *, title: str, body: str) -> None:
        plugin = apprise.Apprise.instantiate(url)
        if plugin is None:
            raise ChannelError("not a channel URL Apprise understands")
        await self._check_hosts(plugin)  # a clear reason for what the URL names; the guard covers the rest
        notifier = apprise.Apprise()
        notifier.add(plugin)
        started = time.perf_counter()
        with guarded(self.egress):
            result = await notifier.async_notify(body=body, title=title)
        if not result:
            raise ChannelError(_reason(result) or f"refused after {time.perf_counter() - started:.1f} s")

    async def _check_hosts(self, plugin: object) -> None:
        try:
            for host in _hosts(plugin):
                await check_host(host, self.egress)
        except RefusedTarget as exc:
            raise ChannelError(str(exc)) from exc


def _hosts(plugin: object) -> list[str]:
    """The hosts a channel URL names: its own, and an email channel's SMTP server."""
    names = (getattr(plugin, attribute, None) for attribute in ("host", "smtp_host"))
    return [name for name in names if isinstance(name, str) and name]


def _reason(result: apprise.AppriseResult) -> str:
    """The last warning or error the service logged: usually the HTTP status or the SMTP reply."""
    messages = [
        entry.message
        for service in result
        for entry in service.logs()
        if entry.level.upper() in {"WARNING", "ERROR"}
    ]
    return messages[-1][:500] if messages else ""
