"""PostgreSQL announces outbox writes itself: a statement trigger on task_events NOTIFYs `todo_outbox`.

Every writer's transaction sent that NOTIFY as a statement of its own, one round trip per write request;
the trigger sends it with the INSERT, whoever writes (see todo.wakeups.NOTIFIED_BY_DATABASE). SQLite has
one process and nothing to notify.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE FUNCTION todo_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN PERFORM pg_notify('todo_outbox', ''); RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER task_events_notify AFTER INSERT ON task_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION todo_outbox_notify()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER task_events_notify ON task_events")
    op.execute("DROP FUNCTION todo_outbox_notify()")
