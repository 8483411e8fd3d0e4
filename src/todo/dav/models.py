"""The names CalDAV clients gave the tasks they made: a client puts `<its name>.ics` and finds it there
again, with the UID it chose. Tasks made elsewhere are `<task id>.ics` with our UID, and need no row."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from todo.db import Base


class DavName(Base):
    __tablename__ = "dav_names"

    task_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))  # the resource's last path segment, `.ics` included
    uid: Mapped[str] = mapped_column(String(255))  # the VTODO's UID, as the client wrote it

    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_dav_names_project_name"),)
