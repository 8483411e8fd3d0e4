"""/api/quick-add: a task or a series typed in plain words, and its preview."""

from __future__ import annotations

from fastapi import APIRouter, status

from todo.deps import CurrentUser, NowDep, SessionDep
from todo.quickadd import service
from todo.quickadd.schemas import QuickAddIn, QuickAddMade, QuickAddPreview
from todo.recurrence import service as recurrence
from todo.recurrence.models import RecurringTask
from todo.tasks import service as tasks

router = APIRouter(prefix="/api/quick-add", tags=["quick add"])


@router.post("/preview", response_model=QuickAddPreview)
async def preview(data: QuickAddIn, user: CurrentUser, now: NowDep) -> QuickAddPreview:
    """What `POST /api/quick-add` would make of the text, making nothing."""
    return service.preview(text=data.text, user=user, now=now)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=QuickAddMade)
async def quick_add(data: QuickAddIn, user: CurrentUser, session: SessionDep, now: NowDep) -> QuickAddMade:
    """Makes the task, or the series when the text says it repeats: `kind` says which, and the answer
    holds it as its own endpoint answers it."""
    made = await service.create(session, user=user, text=data.text, now=now, project_id=data.project_id)
    await session.commit()
    if isinstance(made, RecurringTask):
        return QuickAddMade(kind="series", series=recurrence.to_read(made, now))
    return QuickAddMade(kind="task", task=tasks.to_read(made, now))
