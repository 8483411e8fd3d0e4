"""The calibration for `make bench`: the least a service on this stack can do for one task creation.

FastAPI, Pydantic and asyncpg with nothing else: the bearer token checked (HS256, the same secret), the
body validated, the task row, its tags and its outbox event written in one transaction with a NOTIFY
for the relay, the task answered as JSON. `bench/api_load.py` serves it beside `todo serve api` on the
same database and measures both under the same wrk run, so that our API's figure is read against the
floor of its own stack, on the same machine at the same moment.

    CALIBRATION_DATABASE_URL=postgresql://... CALIBRATION_JWT_SECRET=... \\
        uvicorn calibration_api:app --app-dir bench --port 8766
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated

import asyncpg
import jwt
from fastapi import FastAPI, Header, HTTPException, Request
from pydantic import AwareDatetime, BaseModel, Field


class TaskIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    priority: int = Field(default=2, ge=1, le=3)
    due_date: AwareDatetime | None = None
    tags: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(default_factory=list)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    url = os.environ["CALIBRATION_DATABASE_URL"]
    app.state.pool = await asyncpg.create_pool(url, min_size=4, max_size=20)
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)
SECRET = os.environ.get("CALIBRATION_JWT_SECRET", "")


@app.get("/readyz")
async def ready() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/api/tasks", status_code=201)
async def create(
    body: TaskIn, request: Request, authorization: Annotated[str, Header()] = ""
) -> dict[str, object]:
    try:
        claims = jwt.decode(authorization.removeprefix("Bearer "), SECRET, algorithms=["HS256"])
        user_id = uuid.UUID(claims["sub"])
    except (jwt.InvalidTokenError, KeyError, ValueError) as exc:
        raise HTTPException(401, "invalid token") from exc
    now, task_id = datetime.now(UTC), uuid.uuid4()
    due = body.due_date.isoformat() if body.due_date else None
    task = {"id": str(task_id), "user_id": str(user_id), "project_id": str(user_id), "title": body.title,
            "priority": body.priority, "due_date": due, "completed": False, "tags": body.tags, "version": 1,
            "checklist": [], "created_at": now.isoformat(), "updated_at": now.isoformat()}  # fmt: skip
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO tasks (id, user_id, project_id, title, priority, due_date, completed, notified, "
            "version, checklist, created_at, updated_at) "
            "VALUES ($1, $2, $2, $3, $4, $5, false, false, 1, '[]', $6, $6)",
            task_id, user_id, body.title, body.priority, body.due_date, now,
        )  # fmt: skip
        if body.tags:
            await conn.executemany("INSERT INTO task_tags (task_id, tag) VALUES ($1, $2)",
                                   [(task_id, tag) for tag in body.tags])  # fmt: skip
        await conn.execute(
            "INSERT INTO task_events (id, topic, type, event_type, source, entity, subject, user_id, data, "
            "created_at, publish_attempts) VALUES ($1, 'task-created', 'todo.task.created.v1', 'created', "
            "'calibration', 'task', $2, $3, $4::jsonb, $5, 0)",
            uuid.uuid4(), task_id, user_id, json.dumps(task), now,
        )  # fmt: skip
        await conn.execute("SELECT pg_notify('todo_outbox', '')")
    return task
