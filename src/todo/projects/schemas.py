"""What the project endpoints accept and answer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from todo.platform.fields import NoNul
from todo.projects.models import Role

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), NoNul]
Color = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^#[0-9a-fA-F]{6}$"),
    Field(description="#rrggbb", examples=["#4f7cac"]),
]
DEFAULT_COLOR = "#4f7cac"  # the Inbox's too


class ProjectCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "Home", "color": "#2e8b57"}]}
    )

    name: Name
    color: Color = DEFAULT_COLOR


class ProjectPatch(BaseModel):
    """The fields present change. Name, colour and archiving are the owner's; `position` (where it sits in
    your own list) is each member's."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    color: Color | None = None
    archived: bool | None = None
    position: int | None = Field(default=None, ge=0, le=100_000)


class ProjectRead(BaseModel):
    id: uuid.UUID
    name: str
    color: str
    is_inbox: bool
    archived: bool
    role: Role = Field(description="Yours in it")
    position: int = Field(description="Where it sits in your list")
    owner_id: uuid.UUID
    members: int
    created_at: datetime
    updated_at: datetime


class MemberAdd(BaseModel):
    """Share the project with the account that has this email (adding an existing member changes the role)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"email": "bo@example.com", "role": "editor"}]}
    )

    email: EmailStr
    role: Literal["viewer", "editor"] = "editor"


class MemberRead(BaseModel):
    user_id: uuid.UUID
    email: str
    display_name: str
    role: Role
    added_at: datetime
