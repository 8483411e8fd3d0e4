"""A calendar feed's token is derived from the server's secret and a per-feed nonce, so that its URL can
be shown again; feeds made before keep working, their URL just cannot be shown.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calendar_feeds") as batch_op:
        batch_op.add_column(sa.Column("nonce", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calendar_feeds") as batch_op:
        batch_op.drop_column("nonce")
