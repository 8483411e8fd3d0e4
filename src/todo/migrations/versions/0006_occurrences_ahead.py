"""Occurrences are created ahead of their time: a series records when the clock creates its next one
(`next_create_at`) and the due time of the latest one it created (`last_occurrence_at`).

Existing series get both from what they hold: the latest occurrence of their tasks, and a creation time a
day ahead of their next occurrence (never before the latest one), so the clock opens tomorrow's at once.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from alembic import op

from todo.db import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AHEAD = timedelta(hours=24)  # the window at the time of this revision


def upgrade() -> None:
    with op.batch_alter_table("recurring_tasks") as batch_op:
        batch_op.add_column(sa.Column("next_create_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_occurrence_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_index("ix_recurring_tasks_due")
        batch_op.create_index("ix_recurring_tasks_create", ["is_active", "next_create_at"], unique=False)
    series = sa.table(
        "recurring_tasks",
        sa.column("id", sa.Uuid()),
        sa.column("next_due_at", UTCDateTime(timezone=True)),
        sa.column("next_create_at", UTCDateTime(timezone=True)),
        sa.column("last_occurrence_at", UTCDateTime(timezone=True)),
        sa.column("repeat_from", sa.String()),
        sa.column("occurrences_created", sa.Integer()),
    )
    tasks = sa.table("tasks", sa.column("recurring_task_id", sa.Uuid()), sa.column("occurrence_at"))
    latest = (
        sa.select(sa.func.max(tasks.c.occurrence_at))
        .where(tasks.c.recurring_task_id == series.c.id)
        .scalar_subquery()
    )
    bind = op.get_bind()
    bind.execute(series.update().values(last_occurrence_at=latest))
    waiting = sa.select(series.c.id, series.c.next_due_at, series.c.last_occurrence_at).where(
        series.c.next_due_at.is_not(None),
        sa.or_(series.c.repeat_from == "schedule", series.c.occurrences_created == 0),
    )
    for series_id, due, last in bind.execute(waiting).all():
        bind.execute(series.update().where(series.c.id == series_id).values(next_create_at=_opens(due, last)))


def _opens(due: datetime, last: datetime | None) -> datetime:
    return due - AHEAD if last is None else max(due - AHEAD, last)


def downgrade() -> None:
    with op.batch_alter_table("recurring_tasks") as batch_op:
        batch_op.drop_index("ix_recurring_tasks_create")
        batch_op.create_index("ix_recurring_tasks_due", ["is_active", "next_due_at"], unique=False)
        batch_op.drop_column("last_occurrence_at")
        batch_op.drop_column("next_create_at")
