"""What the notification endpoints answer."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    task_id: uuid.UUID | None
    kind: str
    title: str
    body: str
    due_at: datetime | None
    created_at: datetime
    read_at: datetime | None


class UnreadCount(BaseModel):
    unread: int
