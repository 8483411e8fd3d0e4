"""The unit of work behind every writing session: what a transaction gathers besides its rows.

Bootstrap's writing sessions are `UnitOfWork`s, each with its own: the wake-ups to deliver when it
commits (`wakeups.after_commit`), the event topics it wrote (counted when it commits), and, while a
consumer handles a batch, what `prepare` loaded for the handlers. Code reaches it with `unit_of(session)`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from todo.wakeups import Wakeups


class UnitOfWork(Session):
    """A session that also carries its transaction's side effects until it commits or rolls back.

    `source` (the CloudEvent source of the events it writes: this app's id) and `wakeups` (this process's)
    are the same for every session and given once, by the session factory."""

    def __init__(
        self, *args: Any, source: str = "todo", wakeups: Wakeups | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.source = source
        self.wakeups = wakeups
        self.pending_wakeups: defaultdict[str, set[str]] = defaultdict(set)  # channel: payloads
        self.topics_written: list[str] = []
        self.batch: object | None = None  # a consumer batch's preloaded rows, of its consumer's own type


def unit_of(session: Session | AsyncSession) -> UnitOfWork:
    """The unit of work of a writing session; TypeError for a read-only one (it writes nothing)."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    if not isinstance(sync, UnitOfWork):
        raise TypeError("this needs a writing session (bootstrap's `sessions`), not a read-only one")
    return sync
