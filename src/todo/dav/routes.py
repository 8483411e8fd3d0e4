"""/dav: the CalDAV endpoints. Discovery (`/.well-known/caldav` → the principal → its calendar home →
one calendar per project), then each calendar's to-dos: PROPFIND and REPORT to list them with their ETags
and data, GET, PUT (If-Match honoured) and DELETE one."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from todo.dav import ical, service
from todo.dav.service import Caller, Resource
from todo.dav.xml import CALDAV, CS, DAV, Answer, Asked, element, multistatus, read_request, tag
from todo.deps import NowDep, ReadSessionDep, SessionDep
from todo.errors import Conflict, InvalidInput, NotFound
from todo.projects.schemas import ProjectRead

router = APIRouter(include_in_schema=False)  # not JSON: RFC 4791 is its contract (docs/api.md)
MULTISTATUS = 207
XML = "application/xml; charset=utf-8"
ICS = "text/calendar; charset=utf-8"
Props = dict[str, str | ET.Element | list[ET.Element] | None]
DAV_HEADERS = {"DAV": "1, 3, calendar-access", "Allow": "OPTIONS, GET, PUT, DELETE, PROPFIND, REPORT"}


class NotSignedIn(Exception):
    pass


async def caller_of(request: Request, session: ReadSessionDep, now: NowDep) -> Caller:
    found = await service.authenticate(session, authorization=request.headers.get("authorization"), now=now)
    if found is None:
        raise NotSignedIn
    return found


CallerDep = Annotated[Caller, Depends(caller_of)]


async def not_signed_in(_request: Request, _exc: Exception) -> Response:
    """For the app's exception handlers: what a CalDAV client needs to ask for the password."""
    headers = {"WWW-Authenticate": 'Basic realm="todo", charset="UTF-8"', **DAV_HEADERS}
    return Response("sign in with your email and an API token as the password\n", 401, headers=headers)


@router.get("/.well-known/caldav")
@router.api_route("/.well-known/caldav", methods=["PROPFIND"])
async def well_known() -> Response:
    return RedirectResponse("/dav/", status_code=301)


@router.options("/dav/{path:path}")
async def options(path: str) -> Response:
    return Response(status_code=200, headers=DAV_HEADERS)


@router.api_route("/dav/", methods=["PROPFIND"])
async def root(request: Request, caller: CallerDep) -> Response:
    principal = _principal(caller)
    found: Props = {tag(DAV, "current-user-principal"): element(tag(DAV, "href"), principal),
             tag(DAV, "resourcetype"): element(tag(DAV, "collection"))}  # fmt: skip
    return await _answer(request, [("/dav/", found)])


@router.api_route("/dav/principals/{user_id}/", methods=["PROPFIND"])
async def principal(request: Request, user_id: uuid.UUID, caller: CallerDep) -> Response:
    _mine(caller, user_id)
    found: Props = {
        tag(DAV, "current-user-principal"): element(tag(DAV, "href"), _principal(caller)),
        tag(CALDAV, "calendar-home-set"): element(tag(DAV, "href"), _home(caller)),
        tag(DAV, "displayname"): caller.user.display_name or caller.user.email,
        tag(DAV, "resourcetype"): [element(tag(DAV, "principal"))],
    }
    return await _answer(request, [(_principal(caller), found)])


@router.api_route("/dav/calendars/{user_id}/", methods=["PROPFIND"])
async def home(
    request: Request, user_id: uuid.UUID, caller: CallerDep, session: ReadSessionDep, now: NowDep
) -> Response:
    _mine(caller, user_id)
    answers: list[tuple[str, Props]] = [
        (_home(caller), {tag(DAV, "resourcetype"): element(tag(DAV, "collection"))})
    ]
    if request.headers.get("depth", "1") != "0":
        for project in await service.calendars(session, caller):
            found = await service.resources(session, caller, project.id, now)
            answers.append((_calendar_href(caller, project.id), _calendar_props(caller, project, found)))
    return await _answer(request, answers)


@router.api_route("/dav/calendars/{user_id}/{project_id}/", methods=["PROPFIND", "REPORT"])
async def collection(
    request: Request, user_id: uuid.UUID, project_id: uuid.UUID, caller: CallerDep, session: ReadSessionDep,
    now: NowDep,
) -> Response:  # fmt: skip
    _mine(caller, user_id)
    project = await service.calendar(session, caller, project_id)
    found = await service.resources(session, caller, project_id, now)
    asked = _asked(await request.body())
    base = _calendar_href(caller, project_id)
    if request.method == "REPORT":
        wanted = set(asked.hrefs) if asked.report == "calendar-multiget" else None
        chosen = [r for r in found if wanted is None or base + r.name in wanted]
        return _multistatus([(base + r.name, _resource_props(r, now, data=True)) for r in chosen], asked)
    answers = [(base, _calendar_props(caller, project, found))]
    if request.headers.get("depth", "1") != "0":
        answers += [(base + r.name, _resource_props(r, now, data=False)) for r in found]
    return _multistatus(answers, asked)


@router.api_route("/dav/calendars/{user_id}/{project_id}/{name}", methods=["GET", "PROPFIND"])
async def read_resource(
    request: Request, user_id: uuid.UUID, project_id: uuid.UUID, name: str, caller: CallerDep,
    session: ReadSessionDep, now: NowDep,
) -> Response:  # fmt: skip
    _mine(caller, user_id)
    found = await service.get(session, caller, project_id, name, now)
    if request.method == "PROPFIND":
        href = _calendar_href(caller, project_id) + name
        return _multistatus([(href, _resource_props(found, now, data=False))], _asked(await request.body()))
    return Response(
        ical.resource(found.task, now, uid=found.uid), media_type=ICS, headers={"ETag": found.etag}
    )


@router.put("/dav/calendars/{user_id}/{project_id}/{name}")
async def put_resource(
    request: Request, user_id: uuid.UUID, project_id: uuid.UUID, name: str, caller: CallerDep,
    session: SessionDep, now: NowDep,
) -> Response:  # fmt: skip
    _mine(caller, user_id)
    headers = request.headers
    try:
        saved, made = await service.put(session, caller, project_id, name, await request.body(), now=now,
                                        if_match=headers.get("if-match"),
                                        if_none_match=headers.get("if-none-match"))  # fmt: skip
    except Conflict:
        return Response(status_code=412)
    await session.commit()
    return Response(status_code=201 if made else 204, headers={"ETag": saved.etag})


@router.delete("/dav/calendars/{user_id}/{project_id}/{name}")
async def delete_resource(
    user_id: uuid.UUID, project_id: uuid.UUID, name: str, caller: CallerDep, session: SessionDep, now: NowDep
) -> Response:
    _mine(caller, user_id)
    await service.delete(session, caller, project_id, name, now)
    await session.commit()
    return Response(status_code=204)


def _mine(caller: Caller, user_id: uuid.UUID) -> None:
    if user_id != caller.user.id:
        raise NotFound("not found")


def _principal(caller: Caller) -> str:
    return f"/dav/principals/{caller.user.id}/"


def _home(caller: Caller) -> str:
    return f"/dav/calendars/{caller.user.id}/"


def _calendar_href(caller: Caller, project_id: uuid.UUID) -> str:
    return f"{_home(caller)}{project_id}/"


def _calendar_props(caller: Caller, project: ProjectRead, found: list[Resource]) -> Props:
    rights = [
        "read",
        *(["write", "write-content", "bind", "unbind"] if caller.writes and project.role != "viewer" else []),
    ]
    privileges = [element(tag(DAV, "privilege"), children=[element(tag(DAV, right))]) for right in rights]
    return {
        tag(DAV, "resourcetype"): [element(tag(DAV, "collection")), element(tag(CALDAV, "calendar"))],
        tag(DAV, "displayname"): project.name,
        tag(CALDAV, "supported-calendar-component-set"): _vtodo(),
        tag(CS, "getctag"): service.ctag(found),
        tag(DAV, "current-user-privilege-set"): privileges,
    }


def _vtodo() -> ET.Element:
    comp = element(tag(CALDAV, "comp"))
    comp.set("name", "VTODO")
    return comp


def _resource_props(resource: Resource, now: datetime, *, data: bool) -> Props:
    props: Props = {
        tag(DAV, "getetag"): resource.etag,
        tag(DAV, "getcontenttype"): "text/calendar; charset=utf-8; component=VTODO",
        tag(DAV, "resourcetype"): None,
    }
    if data:
        props[tag(CALDAV, "calendar-data")] = ical.resource(resource.task, now, uid=resource.uid).decode()
    return props


def _asked(body: bytes) -> Asked:
    try:
        return read_request(body)
    except ValueError as exc:
        raise InvalidInput("body", str(exc)) from exc


async def _answer(request: Request, answers: list[tuple[str, Props]]) -> Response:
    return _multistatus(answers, _asked(await request.body()))


def _multistatus(answers: list[tuple[str, Props]], asked: Asked) -> Response:
    """What was asked of each resource: its properties found, and 404 for those it does not have (all it
    has when nothing in particular was asked)."""
    chosen = []
    for href, props in answers:
        if not asked.props:
            chosen.append(Answer(href, props))
            continue
        found = {name: props[name] for name in asked.props if name in props}
        chosen.append(Answer(href, found, [name for name in asked.props if name not in props]))
    return Response(multistatus(chosen), status_code=MULTISTATUS, media_type=XML)
