"""The dashboard and the task pages: the list with its filters, one task's page, and their buttons."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from todo.web import present
from todo.web.backend import BackendError
from todo.web.forms import (
    REMINDER_LEADS,
    ChecklistEntryForm,
    ConfirmForm,
    NewTask,
    NewTaskForm,
    QuickTextForm,
    SnoozeForm,
    TaskChangesForm,
)
from todo.web.pages import Page, SignedIn, page, sentence
from todo.web.routes.common import UserDep, back, back_to, now
from todo.web.session import check_csrf

router = APIRouter()

TASK_FILTERS = ("status", "due_state", "priority", "tag", "q", "sort", "project_id")
TASKS_PER_PAGE = 25


@router.get("/")
async def dashboard(request: Request, user: UserDep) -> Response:
    return await _dashboard(request, user)


async def _dashboard(request: Request, user: SignedIn, *, status: int = 200) -> Response:
    """Every project's open and recently done tasks, or one project's (`?project_id=`)."""
    project_id = request.query_params.get("project_id", "")
    only = {"project_id": project_id} if project_id else {}
    open_query = {"status": "open", "sort": "due_date", "page_size": 100} | only
    done_query = {"status": "completed", "sort": "-completed_at", "page_size": 50} | only
    open_tasks = await user.call("GET", "/api/tasks", params=open_query)
    done = await user.call("GET", "/api/tasks", params=done_query)
    projects = await user.call("GET", "/api/projects")
    groups = present.dashboard_groups(open_tasks["items"], done["items"], now(request), user.timezone)
    data = {"groups": groups, "open": open_tasks["total"], "projects": projects, "project_id": project_id}
    return page(request, "dashboard.html", Page(title="Dashboard", user=user, data=data), status=status)


@router.post("/tasks")
async def add_task(request: Request, user: UserDep, form: NewTaskForm) -> Response:
    """The new-task box: plain words go to quick add ("Call mum tomorrow 18:00 #family"); a due time,
    tags or a priority chosen in the form's own fields make the title literal."""
    check_csrf(request, form.csrf_token)
    where = {"project_id": form.project_id} if form.project_id else {}
    if _chose_fields(form):
        fields: dict[str, Any] = {"title": form.title, "priority": form.priority, "tags": _tags(form.tags)}
        if form.due:  # wall time in the user's zone: the API reads an offset-less time so
            fields["due_date"] = form.due
        _, refused = await user.attempt("POST", "/api/tasks", json=fields | where)
    else:
        _, refused = await user.attempt("POST", "/api/quick-add", json={"text": form.title} | where)
    if refused is not None:
        request.state.flash_error = sentence(refused)
        return await _dashboard(request, user, status=422)
    return back(back_to(request, added="1"))  # the page puts the cursor back in the title box


@router.post("/quick-add/preview")
async def quick_add_preview(request: Request, user: UserDep, form: QuickTextForm) -> Response:
    """What the new-task box would add, in a sentence, as the user types (the page asks, debounced)."""
    check_csrf(request, form.csrf_token)
    if not form.text.strip():
        return PlainTextResponse("")
    said, refused = await user.attempt("POST", "/api/quick-add/preview", json={"text": form.text})
    return PlainTextResponse(
        sentence(refused) if refused is not None else present.quick_add(said, user.timezone)
    )


def _chose_fields(form: NewTask) -> bool:
    return bool(form.due or form.tags.strip() or form.priority != NewTask.model_fields["priority"].default)


@router.post("/tasks/{task_id}/complete")
async def complete_task(request: Request, task_id: str, user: UserDep, form: ConfirmForm) -> Response:
    check_csrf(request, form.csrf_token)
    await user.call("POST", f"/api/tasks/{task_id}/complete")
    return back(back_to(request, completed=task_id))  # the page offers to undo it


@router.post("/tasks/{task_id}/reopen")
async def reopen_task(request: Request, task_id: str, user: UserDep, form: ConfirmForm) -> Response:
    check_csrf(request, form.csrf_token)
    await user.call("POST", f"/api/tasks/{task_id}/uncomplete")
    return back(back_to(request))


@router.get("/tasks")
async def task_list(request: Request, user: UserDep) -> Response:
    """Every task, filtered and sorted by what the query string asks (the filter form is a GET)."""
    chosen = {k: v for k in TASK_FILTERS if (v := request.query_params.get(k, "").strip())}
    if "tag" in chosen:
        chosen["tag"] = chosen["tag"].lstrip("#")  # tags are shown as #work; typed so, they still filter
    asked = request.query_params.get("page", "1")
    page_number = int(asked) if asked.isdigit() and int(asked) > 0 else 1
    query = {**chosen, "page": page_number, "page_size": TASKS_PER_PAGE}
    answer, refused = await user.attempt("GET", "/api/tasks", params=query)
    if refused is not None:
        answer, request.state.flash_error = {"items": [], "total": 0}, sentence(refused)
    tasks = [present.task_view(t, now(request), user.timezone) for t in answer["items"]]
    projects = await user.call("GET", "/api/projects")
    data = {
        "tasks": tasks,
        "projects": projects,
        "project_names": {p["id"]: p["name"] for p in projects if not p["is_inbox"]},
        "total": answer["total"],
        "chosen": chosen,
        "page_number": page_number,
        "pages": max(1, -(-answer["total"] // TASKS_PER_PAGE)),
        "query": lambda **extra: urlencode({**chosen, **extra}),
    }
    return page(request, "tasks.html", Page(title="Tasks", user=user, data=data))


@router.get("/tasks/{task_id}")
async def task_edit_form(request: Request, task_id: str, user: UserDep) -> Response:
    return await _task_page(request, user, task_id)


@router.post("/tasks/{task_id}")
async def task_save(request: Request, task_id: str, user: UserDep, form: TaskChangesForm) -> Response:
    check_csrf(request, form.csrf_token)
    priority = form.priority.strip()
    changes: dict[str, Any] = {
        "title": form.title.strip(),
        "description": form.description.strip() or None,
        "due_date": form.due.strip() or None,
        "priority": int(priority) if priority.isdigit() else priority,
        "tags": _tags(form.tags),
        "reminder_minutes": _own_leads(user, form.leads(), follows_defaults=form.follows_defaults == "yes"),
    }
    _, refused = await user.attempt("PATCH", f"/api/tasks/{task_id}", json=changes)
    if refused is not None:
        return await _task_page(request, user, task_id, refused=refused)
    return back(f"/tasks/{task_id}?saved=1")


def _tags(typed: str) -> list[str]:
    return [t.strip() for t in typed.split(",") if t.strip()]


def _own_leads(user: SignedIn, ticked: list[int], *, follows_defaults: bool) -> list[int] | None:
    """The form shows the leads that apply, the user's defaults included: a task that followed them
    goes on following them (None) unless its boxes were changed, and then has its own."""
    defaults = sorted(user.me["reminder_minutes"], reverse=True)
    return None if follows_defaults and ticked == defaults else ticked


@router.post("/tasks/{task_id}/snooze")
async def task_snooze(request: Request, task_id: str, user: UserDep, form: SnoozeForm) -> Response:
    check_csrf(request, form.csrf_token)
    await user.call("POST", f"/api/tasks/{task_id}/snooze", json=form.as_api())
    return back(f"/tasks/{task_id}?saved=snooze")


@router.post("/tasks/{task_id}/checklist")
async def add_checklist_item(
    request: Request, task_id: str, user: UserDep, form: ChecklistEntryForm
) -> Response:
    check_csrf(request, form.csrf_token)
    _, refused = await user.attempt("POST", f"/api/tasks/{task_id}/checklist", json={"text": form.text})
    if refused is not None:
        return await _task_page(request, user, task_id, refused=refused)
    return back(f"/tasks/{task_id}?saved=checklist#checklist")  # the cursor back in the box, for the next


@router.post("/tasks/{task_id}/checklist/{item_id}")
async def check_checklist_item(
    request: Request, task_id: str, item_id: str, user: UserDep, form: ChecklistEntryForm
) -> Response:
    check_csrf(request, form.csrf_token)
    await user.call("PATCH", f"/api/tasks/{task_id}/checklist/{item_id}", json={"done": form.done == "true"})
    return back(f"/tasks/{task_id}#checklist")


@router.post("/tasks/{task_id}/checklist/{item_id}/remove")
async def remove_checklist_item(
    request: Request, task_id: str, item_id: str, user: UserDep, form: ConfirmForm
) -> Response:
    check_csrf(request, form.csrf_token)
    await user.call("DELETE", f"/api/tasks/{task_id}/checklist/{item_id}")
    return back(f"/tasks/{task_id}#checklist")


@router.post("/tasks/{task_id}/delete")
async def task_delete(request: Request, task_id: str, user: UserDep, form: ConfirmForm) -> Response:
    check_csrf(request, form.csrf_token)
    await user.call("DELETE", f"/api/tasks/{task_id}")
    return back("/tasks")


async def _task_page(
    request: Request, user: SignedIn, task_id: str, *, refused: BackendError | None = None
) -> Response:
    task = await user.call("GET", f"/api/tasks/{task_id}")
    reminders = await user.call("GET", f"/api/tasks/{task_id}/reminders")
    at = now(request)
    data = {
        "task": task,
        "view": present.task_view(task, at, user.timezone),
        "reminders": [_planned(r, at, user.timezone) for r in reminders if r["state"] == "pending"],
        "due_value": present.input_value(present.parse_instant(task["due_date"]), user.timezone),
        "leads": REMINDER_LEADS,
        "snooze_choices": present.snooze_choices(at, user.timezone),
        "saved": request.query_params.get("saved"),
    }
    return page(request, "task.html", Page(title="Edit task", user=user, data=data), refused=refused)


def _planned(reminder: dict[str, Any], at: datetime, timezone: str) -> dict[str, Any]:
    """A pending reminder as the task's page lists it: what it is and when, in the user's zone."""
    fires = present.parse_instant(reminder["fire_at"]) or at
    what = present.reminder_label(reminder["kind"], reminder.get("minutes_before"))
    return {**reminder, "what": what, "when": present.local_time(fires, timezone)}
