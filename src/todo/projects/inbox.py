"""Every account's first project, where tasks go unless told otherwise. Its id is the user's, so a task
made without a project needs no lookup to find where it goes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from todo.auth.models import User
from todo.projects.models import Project, ProjectMember, Role

NAME = "Inbox"
COLOR = "#4f7cac"


def add_inbox(session: AsyncSession, user: User, now: datetime) -> None:
    """Add `user`'s Inbox to the session (after the user's row is flushed: it refers to it)."""
    session.add(Project(id=user.id, owner_id=user.id, name=NAME, color=COLOR, is_inbox=True, archived=False,
                        created_at=now, updated_at=now))  # fmt: skip
    session.add(ProjectMember(project_id=user.id, user_id=user.id, role=Role.owner, position=0, added_at=now))
