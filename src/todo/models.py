"""Imports every table so that `Base.metadata` is complete (for Alembic and for tests)."""

from todo.analytics.models import AnalyticsTask
from todo.auth.models import ApiToken, User
from todo.calendar.models import CalendarFeed
from todo.dav.models import DavName
from todo.db import Base
from todo.events.models import ProcessedEvent, TaskEvent
from todo.notifications.models import (
    Channel,
    Delivery,
    DeliveryAttempt,
    Notification,
    Reminder,
    ReminderSource,
)
from todo.projects.models import Project, ProjectMember
from todo.recurrence.models import RecurringTask
from todo.tasks.models import Task, TaskTag
from todo.webhooks.models import Webhook, WebhookDelivery

__all__ = [
    "AnalyticsTask",
    "ApiToken",
    "Base",
    "CalendarFeed",
    "Channel",
    "DavName",
    "Delivery",
    "DeliveryAttempt",
    "Notification",
    "ProcessedEvent",
    "Project",
    "ProjectMember",
    "RecurringTask",
    "Reminder",
    "ReminderSource",
    "Task",
    "TaskEvent",
    "TaskTag",
    "User",
    "Webhook",
    "WebhookDelivery",
]
