"""Projects: the list with a form for a new one, and one project's page (its tasks' link, its members,
sharing, renaming, archiving, deleting)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from todo.web.backend import BackendError
from todo.web.forms import ConfirmForm, MoveForm, ProjectFieldsForm, ShareForm
from todo.web.pages import Page, SignedIn, page
from todo.web.routes.common import UserDep, back
from todo.web.session import check_csrf

router = APIRouter(prefix="/projects")


@router.get("")
async def project_list(request: Request, user: UserDep) -> Response:
    return await _render_list(request, user)


@router.post("")
async def create_project(request: Request, user: UserDep, form: ProjectFieldsForm) -> Response:
    check_csrf(request, form.csrf_token)
    made, refused = await user.attempt("POST", "/api/projects", json={"name": form.name, "color": form.color})
    if refused is not None:
        return await _render_list(
            request, user, refused=refused, form={"name": form.name, "color": form.color}
        )
    return back(f"/projects/{made['id']}")


@router.get("/{project_id}")
async def project_page(request: Request, project_id: str, user: UserDep) -> Response:
    return await _render_project(request, user, project_id)


@router.post("/{project_id}")
async def save_project(request: Request, project_id: str, user: UserDep, form: ProjectFieldsForm) -> Response:
    check_csrf(request, form.csrf_token)
    changes = {"name": form.name, "color": form.color}
    _, refused = await user.attempt("PATCH", f"/api/projects/{project_id}", json=changes)
    if refused is not None:
        return await _render_project(request, user, project_id, refused=refused)
    return back(f"/projects/{project_id}?saved=project")


@router.post("/{project_id}/archive")
async def archive_project(request: Request, project_id: str, user: UserDep, form: ConfirmForm) -> Response:
    check_csrf(request, form.csrf_token)
    project = await user.call("GET", f"/api/projects/{project_id}")
    await user.call("PATCH", f"/api/projects/{project_id}", json={"archived": not project["archived"]})
    return back(f"/projects/{project_id}")


@router.post("/{project_id}/move")
async def move_project(request: Request, project_id: str, user: UserDep, form: MoveForm) -> Response:
    """One place up or down the user's own list: it trades places with its neighbour there."""
    check_csrf(request, form.csrf_token)
    mine = [
        p for p in await user.call("GET", "/api/projects", params={"archived": "true"}) if not p["is_inbox"]
    ]
    at = next((i for i, p in enumerate(mine) if p["id"] == project_id), None)
    other = None if at is None else at + (-1 if form.direction == "up" else 1)
    if at is not None and other is not None and 0 <= other < len(mine):
        ordered = [*mine]
        ordered[at], ordered[other] = ordered[other], ordered[at]
        for position, project in enumerate(ordered, start=1):  # positions made distinct as they go
            if project["position"] != position:
                await user.call("PATCH", f"/api/projects/{project['id']}", json={"position": position})
    return back("/projects")


@router.post("/{project_id}/delete")
async def delete_project(request: Request, project_id: str, user: UserDep, form: ConfirmForm) -> Response:
    check_csrf(request, form.csrf_token)
    await user.call("DELETE", f"/api/projects/{project_id}")
    return back("/projects?deleted=1")


@router.post("/{project_id}/members")
async def share_project(request: Request, project_id: str, user: UserDep, form: ShareForm) -> Response:
    check_csrf(request, form.csrf_token)
    _, refused = await user.attempt(
        "POST", f"/api/projects/{project_id}/members", json={"email": form.email, "role": form.role}
    )
    if refused is not None:
        return await _render_project(request, user, project_id, refused=refused, share={"email": form.email})
    return back(f"/projects/{project_id}?saved=members")


@router.post("/{project_id}/members/{member_id}/remove")
async def remove_member(
    request: Request, project_id: str, member_id: str, user: UserDep, form: ConfirmForm
) -> Response:
    """The owner removes a member; a member who removes themselves leaves, and goes back to the list."""
    check_csrf(request, form.csrf_token)
    await user.call("DELETE", f"/api/projects/{project_id}/members/{member_id}")
    return back("/projects" if member_id == user.me["id"] else f"/projects/{project_id}?saved=members")


async def _render_list(
    request: Request,
    user: SignedIn,
    *,
    refused: BackendError | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    projects = await user.call("GET", "/api/projects", params={"archived": "true"})
    data: dict[str, Any] = {
        "projects": projects,
        "form": form or {},
        "deleted": request.query_params.get("deleted"),
    }
    return page(request, "projects.html", Page(title="Projects", user=user, data=data), refused=refused)


async def _render_project(
    request: Request,
    user: SignedIn,
    project_id: str,
    *,
    refused: BackendError | None = None,
    share: dict[str, str] | None = None,
) -> Response:
    project = await user.call("GET", f"/api/projects/{project_id}")
    members = await user.call("GET", f"/api/projects/{project_id}/members")
    data = {
        "project": project,
        "members": members,
        "share": share or {},
        "saved": request.query_params.get("saved"),
    }
    return page(request, "project.html", Page(title="Projects", user=user, data=data), refused=refused)
