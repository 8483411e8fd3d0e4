"""Imports every table so that `Base.metadata` is complete (for Alembic and for tests)."""

from todo.analytics.models import AnalyticsTask
from todo.auth.models import User
from todo.db import Base
from todo.events.models import ProcessedEvent, TaskEvent
from todo.notifications.models import Notification
from todo.recurrence.models import RecurringTask
from todo.tasks.models import Task, TaskTag

__all__ = [
    "AnalyticsTask",
    "Base",
    "Notification",
    "ProcessedEvent",
    "RecurringTask",
    "Task",
    "TaskEvent",
    "TaskTag",
    "User",
]
