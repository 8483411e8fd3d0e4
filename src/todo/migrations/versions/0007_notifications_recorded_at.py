"""Notifications record when they were written (`recorded_at`), for the live stream to follow.

`created_at` is the time of the event behind a notification (a reminder's send time), and notifications
are written out of that order: a live stream that followed it missed a notification that arrived later
with an earlier time. Existing notifications take their `created_at`.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from todo.db import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.add_column(sa.Column("recorded_at", UTCDateTime(timezone=True), nullable=True))
    notifications = sa.table(
        "notifications",
        sa.column("created_at", UTCDateTime(timezone=True)),
        sa.column("recorded_at", UTCDateTime(timezone=True)),
    )
    op.get_bind().execute(notifications.update().values(recorded_at=notifications.c.created_at))
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.alter_column("recorded_at", existing_type=UTCDateTime(timezone=True), nullable=False)
        batch_op.create_index("ix_notifications_user_recorded", ["user_id", "recorded_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.drop_index("ix_notifications_user_recorded")
        batch_op.drop_column("recorded_at")
