"""Every Prometheus metric the services expose, named in one place."""

from __future__ import annotations

from fastapi.telemetry import TelemetryConfig
from prometheus_client import Counter, Gauge, Histogram

# Our metrics are Prometheus' (below). FastAPI's own OpenTelemetry hooks are off: with opentelemetry-api
# installed (a dependency of a dependency) they asked the global providers whether to trace on every
# request, a twentieth of a task creation's CPU.
FASTAPI_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False,
                                      "operation_spans": False}  # fmt: skip

HTTP_REQUEST_SECONDS = Histogram(
    "todo_http_request_duration_seconds",
    "HTTP request latency by route template",
    ["method", "route", "status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENTS_WRITTEN = Counter("todo_events_written_total", "Events written to the outbox", ["topic"])
EVENTS_PUBLISHED = Counter("todo_events_published_total", "Events published by the relay", ["topic"])
PUBLISH_FAILURES = Counter("todo_events_publish_failures_total", "Relay publish attempts that failed")
OUTBOX_BACKLOG = Gauge("todo_outbox_backlog", "Outbox rows not yet published")
OUTBOX_OLDEST_AGE = Gauge("todo_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row")
CONSUMED = Counter(
    "todo_events_consumed_total", "Events handled by consumers, by outcome", ["consumer", "topic", "status"]
)
EVENT_DELIVERY_SECONDS = Histogram(
    "todo_event_delivery_seconds",
    "From an event's time (its outbox commit) to a consumer handling it: the pipeline's end-to-end latency",
    ["consumer"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
EVENT_HOP_SECONDS = Histogram(
    "todo_event_hop_seconds",
    "Where an event's latency goes, per event: outbox (written -> read by the relay), publish (read -> "
    "acknowledged by the sidecar), transit (sent to Kafka -> delivered to the consuming app), consume "
    "(delivered -> the app's consumers committed and answered)",
    ["hop"],
    buckets=(0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15,
             0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10),
)  # fmt: skip
CLOCK_LOOP_SECONDS = Histogram(
    "todo_clock_loop_duration_seconds",
    "Time one step of a background loop took (relay, recurrence, reminders, deliveries)",
    ["clock"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
OCCURRENCES_CREATED = Counter(
    "todo_occurrences_created_total", "Occurrences created by recurring series", ["trigger"]
)
REMINDERS_FIRED = Counter("todo_reminders_fired_total", "Reminders sent, by kind", ["kind"])
REMINDER_LATENESS = Histogram(
    "todo_reminder_lateness_seconds",
    "When a reminder went out minus when it was due",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600),
)
NOTIFICATIONS_SENT = Counter(
    "todo_notifications_sent_total", "Notifications delivered, per channel service", ["channel"]
)
NOTIFICATIONS_FAILED = Counter(
    "todo_notifications_failed_total", "Notification delivery attempts that failed, per channel", ["channel"]
)
