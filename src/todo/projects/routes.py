"""/api/projects: your projects, and who they are shared with."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from todo.deps import CurrentUser, NowDep, ReadSessionDep, SessionDep
from todo.projects import service
from todo.projects.schemas import MemberAdd, MemberRead, ProjectCreate, ProjectPatch, ProjectRead

router = APIRouter(prefix="/api/projects", tags=["projects"])


@router.get("", response_model=list[ProjectRead])
async def list_projects(
    user: CurrentUser, session: ReadSessionDep, archived: bool = False
) -> list[ProjectRead]:
    """Yours and those shared with you, Inbox first, then in your order; `archived=true` adds the archived."""
    return await service.get_all(session, user=user, archived=archived)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ProjectRead)
async def create_project(
    data: ProjectCreate, user: CurrentUser, session: SessionDep, now: NowDep
) -> ProjectRead:
    project = await service.create(session, user=user, data=data, now=now)
    await session.commit()
    return project


@router.get("/{project_id}", response_model=ProjectRead)
async def read_project(project_id: uuid.UUID, user: CurrentUser, session: ReadSessionDep) -> ProjectRead:
    return await service.get(session, user=user, project_id=project_id)


@router.patch("/{project_id}", response_model=ProjectRead)
async def patch_project(
    project_id: uuid.UUID, data: ProjectPatch, user: CurrentUser, session: SessionDep, now: NowDep
) -> ProjectRead:
    project = await service.update(session, user=user, project_id=project_id, patch=data, now=now)
    await session.commit()
    return project


@router.delete("/{project_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_project(
    project_id: uuid.UUID, user: CurrentUser, session: SessionDep, now: NowDep
) -> Response:
    """Deletes its tasks and series too (the owner only; the Inbox stays)."""
    await service.delete(session, user=user, project_id=project_id, now=now)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{project_id}/members", response_model=list[MemberRead])
async def list_members(project_id: uuid.UUID, user: CurrentUser, session: ReadSessionDep) -> list[MemberRead]:
    return await service.members(session, user=user, project_id=project_id)


@router.post("/{project_id}/members", status_code=status.HTTP_201_CREATED, response_model=MemberRead)
async def add_member(
    project_id: uuid.UUID, data: MemberAdd, user: CurrentUser, session: SessionDep, now: NowDep
) -> MemberRead:
    member = await service.add_member(session, user=user, project_id=project_id, data=data, now=now)
    await session.commit()
    return member


@router.delete("/{project_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_member(
    project_id: uuid.UUID, user_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> Response:
    """The owner removes a member, who loses access at once; a member may remove themselves."""
    await service.remove_member(session, user=user, project_id=project_id, member_id=user_id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
