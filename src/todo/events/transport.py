"""The publisher port the relay talks to, and the status contract consumers answer with (Dapr's)."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol

from todo.events.envelope import CloudEvent


class DeliveryStatus(StrEnum):
    SUCCESS = "SUCCESS"  # done, or a duplicate already done
    RETRY = "RETRY"  # transient failure: deliver again later
    DROP = "DROP"  # malformed: retrying cannot help; goes to the dead-letter topic


class Publisher(Protocol):
    async def publish(self, events: Sequence[CloudEvent]) -> int:
        """Publish in order; return how many leading events were accepted (the rest are retried later)."""
        ...

    async def close(self) -> None: ...
