"""A task's checklist, and the one each occurrence of a series starts with (both JSON lists).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("tasks", "recurring_tasks"):
        # The server default fills the rows there are; the application always writes the column itself
        op.add_column(
            table, sa.Column("checklist", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column("checklist", existing_type=sa.JSON(), server_default=None)


def downgrade() -> None:
    for table in ("tasks", "recurring_tasks"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("checklist")
