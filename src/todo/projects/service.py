"""Project use cases: the Inbox every user has, projects of one's own, and sharing them. None commits."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from todo.auth.models import User
from todo.errors import Conflict, Forbidden, InvalidInput, NotFound
from todo.projects.models import Project, ProjectMember, Role
from todo.projects.schemas import MemberAdd, MemberRead, ProjectCreate, ProjectPatch, ProjectRead
from todo.recurrence import service as series_service
from todo.recurrence.models import RecurringTask
from todo.tasks import service as tasks_service
from todo.tasks.models import Task


async def create(session: AsyncSession, *, user: User, data: ProjectCreate, now: datetime) -> ProjectRead:
    project = Project(id=uuid.uuid4(), owner_id=user.id, name=data.name, color=data.color, is_inbox=False,
                      archived=False, created_at=now, updated_at=now)  # fmt: skip
    position = await _next_position(session, user.id)
    membership = ProjectMember(project_id=project.id, user_id=user.id, role=Role.owner, position=position,
                               added_at=now)  # fmt: skip
    session.add_all([project, membership])
    await session.flush()
    return _read(project, membership, members=1)


async def get_all(session: AsyncSession, *, user: User, archived: bool) -> list[ProjectRead]:
    """The user's projects in the user's order; the archived ones only when asked."""
    members = (
        select(func.count())
        .where(ProjectMember.project_id == Project.id)
        .correlate(Project)
        .scalar_subquery()
        .label("members")
    )
    query = (
        select(Project, ProjectMember, members)
        .join(ProjectMember, ProjectMember.project_id == Project.id)
        .where(ProjectMember.user_id == user.id)
        .order_by(Project.is_inbox.desc(), ProjectMember.position, Project.created_at, Project.id)
    )
    if not archived:
        query = query.where(Project.archived.is_(False))
    return [_read(project, mine, members=count) for project, mine, count in await session.execute(query)]


async def get(session: AsyncSession, *, user: User, project_id: uuid.UUID) -> ProjectRead:
    project, mine = await _membership(session, user=user, project_id=project_id)
    return _read(project, mine, members=await _member_count(session, project_id))


async def update(
    session: AsyncSession, *, user: User, project_id: uuid.UUID, patch: ProjectPatch, now: datetime
) -> ProjectRead:
    project, mine = await _membership(session, user=user, project_id=project_id)
    changes = patch.model_dump(exclude_unset=True, exclude_none=True)
    if "position" in changes:
        mine.position = changes.pop("position")
    if changes:
        _require_owner(mine, "rename, recolour or archive it")
        if project.is_inbox and ({"name", "archived"} & changes.keys()):
            raise InvalidInput(
                next(iter({"name", "archived"} & changes.keys())), "the Inbox keeps its name and stays"
            )
        for name, value in changes.items():
            setattr(project, name, value)
        project.updated_at = now
    return _read(project, mine, members=await _member_count(session, project_id))


async def delete(session: AsyncSession, *, user: User, project_id: uuid.UUID, now: datetime) -> None:
    """Delete the project with its series and tasks, each with its own `deleted` event (reminders are
    cancelled, analytics forget them), then the project."""
    project, mine = await _membership(session, user=user, project_id=project_id)
    _require_owner(mine, "delete it")
    if project.is_inbox:
        raise Conflict("the Inbox cannot be deleted")
    for series_id in await session.scalars(
        select(RecurringTask.id).where(RecurringTask.project_id == project_id)
    ):
        await series_service.delete(session, user=user, series_id=series_id, now=now)
    for task_id in await session.scalars(select(Task.id).where(Task.project_id == project_id)):
        await tasks_service.delete(session, user=user, task_id=task_id, now=now)
    await session.delete(project)


async def members(session: AsyncSession, *, user: User, project_id: uuid.UUID) -> list[MemberRead]:
    await _membership(session, user=user, project_id=project_id)
    query = (
        select(ProjectMember, User)
        .join(User, User.id == ProjectMember.user_id)
        .where(ProjectMember.project_id == project_id)
        .order_by(ProjectMember.added_at, User.email)
    )
    return [_member(membership, member) for membership, member in await session.execute(query)]


async def add_member(
    session: AsyncSession, *, user: User, project_id: uuid.UUID, data: MemberAdd, now: datetime
) -> MemberRead:
    """Share the project with the account behind `data.email`, or change that member's role."""
    project, mine = await _membership(session, user=user, project_id=project_id)
    _require_owner(mine, "share it")
    if project.is_inbox:
        raise Conflict("the Inbox is yours alone: share another project")
    invited = await session.scalar(select(User).where(User.email == data.email.lower()))
    if invited is None:
        raise InvalidInput("email", "no account has this email; ask them to sign up first")
    if invited.id == user.id:
        raise InvalidInput("email", "that is you: you own this project already")
    membership = await session.get(ProjectMember, (project_id, invited.id))
    if membership is None:
        position = await _next_position(session, invited.id)
        membership = ProjectMember(project_id=project_id, user_id=invited.id, role=data.role,
                                   position=position, added_at=now)  # fmt: skip
        session.add(membership)
    else:
        membership.role = data.role
    await session.flush()
    return _member(membership, invited)


async def remove_member(
    session: AsyncSession, *, user: User, project_id: uuid.UUID, member_id: uuid.UUID
) -> None:
    """The owner removes a member; a member may remove themselves (leave). The owner cannot leave."""
    _, mine = await _membership(session, user=user, project_id=project_id)
    if member_id != user.id:
        _require_owner(mine, "remove its members")
    membership = await session.get(ProjectMember, (project_id, member_id))
    if membership is None:
        raise NotFound("member not found")
    if membership.role == Role.owner:
        raise Conflict("the owner cannot leave the project: delete it instead")
    await session.delete(membership)


async def _membership(
    session: AsyncSession, *, user: User, project_id: uuid.UUID
) -> tuple[Project, ProjectMember]:
    query = (
        select(Project, ProjectMember)
        .join(ProjectMember, ProjectMember.project_id == Project.id)
        .where(Project.id == project_id, ProjectMember.user_id == user.id)
    )
    found = (await session.execute(query)).one_or_none()
    if found is None:
        raise NotFound("project not found")
    project, mine = found
    return project, mine


async def _next_position(session: AsyncSession, user_id: uuid.UUID) -> int:
    """The end of the user's own list of projects."""
    last = await session.scalar(
        select(func.max(ProjectMember.position)).where(ProjectMember.user_id == user_id)
    )
    return (last or 0) + 1


async def _member_count(session: AsyncSession, project_id: uuid.UUID) -> int:
    query = select(func.count()).select_from(ProjectMember).where(ProjectMember.project_id == project_id)
    return await session.scalar(query) or 0


def _require_owner(mine: ProjectMember, to_do: str) -> None:
    if mine.role != Role.owner:
        raise Forbidden(f"only the project's owner can {to_do}")


def _read(project: Project, mine: ProjectMember, *, members: int) -> ProjectRead:
    return ProjectRead(
        id=project.id,
        name=project.name,
        color=project.color,
        is_inbox=project.is_inbox,
        archived=project.archived,
        role=Role(mine.role),
        position=mine.position,
        owner_id=project.owner_id,
        members=members,
        created_at=project.created_at,
        updated_at=project.updated_at,
    )


def _member(membership: ProjectMember, member: User) -> MemberRead:
    return MemberRead(
        user_id=member.id,
        email=member.email,
        display_name=member.display_name,
        role=Role(membership.role),
        added_at=membership.added_at,
    )
