"""Who may see or change what: a user sees the tasks and series of the projects they are a member of,
and changes them unless a viewer. A non-member is told "not found", never "forbidden": the id of
someone else's project, task or series says nothing about whether it exists."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from todo.errors import Forbidden, NotFound
from todo.projects.models import Project, ProjectMember, Role


def member_projects(user_id: uuid.UUID, *, archived: bool = True) -> Select[Any]:
    """The ids of the projects `user_id` belongs to (without the archived ones unless `archived`)."""
    query = select(ProjectMember.project_id).where(ProjectMember.user_id == user_id)
    if not archived:
        query = query.join(Project, Project.id == ProjectMember.project_id).where(Project.archived.is_(False))
    return query


async def role_in(session: AsyncSession, *, user_id: uuid.UUID, project_id: uuid.UUID) -> Role | None:
    query = select(ProjectMember.role).where(
        ProjectMember.project_id == project_id, ProjectMember.user_id == user_id
    )
    role = await session.scalar(query)
    return None if role is None else Role(role)


async def exists(session: AsyncSession, project_id: uuid.UUID) -> bool:
    return await session.scalar(select(Project.id).where(Project.id == project_id)) is not None


async def require(
    session: AsyncSession, *, user_id: uuid.UUID, project_id: uuid.UUID, write: bool, what: str = "project"
) -> Role:
    """The user's role in the project; NotFound (naming `what`) for a non-member, Forbidden for a viewer
    asked to write."""
    role = await role_in(session, user_id=user_id, project_id=project_id)
    if role is None:
        raise NotFound(f"{what} not found")
    return check(role, write=write, what=what)


def check(role: str, *, write: bool, what: str) -> Role:
    """`role` if it may do what is asked (`write` or read); Forbidden for a viewer asked to write."""
    granted = Role(role)
    if write and not granted.writes:
        raise Forbidden(
            f"you can view this {what} but not change it: ask the project's owner to make you an editor"
        )
    return granted
