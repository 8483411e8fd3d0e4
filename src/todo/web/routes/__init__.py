"""The pages, one module per group. Each reads and writes through the backend's API with the signed-in
user's token; a form that the API refuses is shown again with the API's reasons beside its fields."""

from fastapi import APIRouter

from todo.web.routes import (
    account,
    calendar,
    inbox,
    insights,
    integrations,
    projects,
    series,
    settings,
    tasks,
)

router = APIRouter(include_in_schema=False)
for group in (account, tasks, projects, series, insights, settings, calendar, integrations, inbox):
    router.include_router(group.router)
