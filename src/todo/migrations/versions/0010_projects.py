"""Projects: every task and series belongs to one, each user gets an Inbox (with the user's id) that
holds what they had; projects are shared through project_members. A notification is now one per
event and member, not one per event.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from todo.db import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INBOX_COLOR = "#4f7cac"


def upgrade() -> None:
    projects = op.create_table(
        "projects",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("owner_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("color", sa.String(7), nullable=False),
        sa.Column("is_inbox", sa.Boolean(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
    )
    members = op.create_table(
        "project_members",
        sa.Column(
            "project_id", sa.Uuid(), sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("added_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_projects_owner_id", "projects", ["owner_id"])
    op.create_index("ix_project_members_user", "project_members", ["user_id", "project_id"])
    users = sa.table("users", sa.column("id", sa.Uuid()), sa.column("created_at", UTCDateTime(timezone=True)))
    inbox = sa.select(
        users.c.id, users.c.id, sa.literal("Inbox"), sa.literal(INBOX_COLOR), sa.true(), sa.false(),
        users.c.created_at, users.c.created_at,
    )  # fmt: skip
    columns = ["id", "owner_id", "name", "color", "is_inbox", "archived", "created_at", "updated_at"]
    op.execute(projects.insert().from_select(columns, inbox))
    ownership = sa.select(users.c.id, users.c.id, sa.literal("owner"), sa.literal(0), users.c.created_at)
    op.execute(
        members.insert().from_select(["project_id", "user_id", "role", "position", "added_at"], ownership)
    )

    for table in ("tasks", "recurring_tasks"):
        op.add_column(table, sa.Column("project_id", sa.Uuid(), nullable=True))
        op.execute(f"UPDATE {table} SET project_id = user_id")  # everything so far was in its maker's Inbox
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column("project_id", existing_type=sa.Uuid(), nullable=False)
            batch_op.create_foreign_key(
                f"fk_{table}_project_id_projects", "projects", ["project_id"], ["id"], ondelete="CASCADE"
            )
    op.create_index("ix_tasks_project_created", "tasks", ["project_id", "created_at"])
    op.create_index("ix_recurring_tasks_project_id", "recurring_tasks", ["project_id"])

    op.add_column("analytics_tasks", sa.Column("project_id", sa.Uuid(), nullable=True))
    op.execute("UPDATE analytics_tasks SET project_id = user_id")
    op.create_index("ix_analytics_tasks_project_id", "analytics_tasks", ["project_id"])

    with op.batch_alter_table("notifications") as batch_op:
        batch_op.drop_constraint("uq_notifications_event_id", type_="unique")
        batch_op.create_unique_constraint("uq_notifications_event_user", ["event_id", "user_id"])


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.drop_constraint("uq_notifications_event_user", type_="unique")
        batch_op.create_unique_constraint("uq_notifications_event_id", ["event_id"])
    op.drop_index("ix_analytics_tasks_project_id", table_name="analytics_tasks")
    with op.batch_alter_table("analytics_tasks") as batch_op:
        batch_op.drop_column("project_id")
    op.drop_index("ix_recurring_tasks_project_id", table_name="recurring_tasks")
    op.drop_index("ix_tasks_project_created", table_name="tasks")
    for table in ("tasks", "recurring_tasks"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_project_id_projects", type_="foreignkey")
            batch_op.drop_column("project_id")
    op.drop_table("project_members")
    op.drop_table("projects")
