"""The port through which notifications leave for a user's channels (email, webhooks, ntfy, ...).

The delivery worker and the channel endpoints send, check and name channel URLs through a `ChannelSender`
without knowing the library behind it; bootstrap chooses the adapter (`channels.AppriseSender`). Channel
URLs carry credentials, so only their masked form (`ChannelInfo.masked_url`) ever leaves the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class ChannelError(RuntimeError):
    """The channel did not take the notification; the message says what it answered."""


@dataclass(frozen=True)
class ChannelInfo:
    service: str  # "Email", "JSON", "ntfy", ...
    masked_url: str  # credentials replaced by ****


class ChannelSender(Protocol):
    def describe(self, url: str) -> ChannelInfo | None:
        """What the URL stands for, or None when the sender does not understand it."""

    async def check(self, url: str) -> None:
        """Raise ChannelError if the URL names a target it may not send to (a host inside our network).
        A URL the sender does not understand at all is left to `describe`."""

    async def send(self, url: str, *, title: str, body: str) -> None:
        """Deliver or raise ChannelError."""
