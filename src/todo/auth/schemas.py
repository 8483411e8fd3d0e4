"""What the auth endpoints accept and answer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field

from todo.platform.fields import ReminderMinutes, Text
from todo.timeutil import canonical_timezone


def _check_timezone(name: str) -> str:
    """The zone's IANA name as spelled there, whatever case it was typed in."""
    canonical = canonical_timezone(name)
    if canonical is None:
        raise ValueError(f"{name!r} is not an IANA time zone name (e.g. 'Europe/Berlin')")
    return canonical


TimezoneName = Annotated[
    str, Field(max_length=64, examples=["Europe/Berlin"]), AfterValidator(_check_timezone)
]
Password = Annotated[str, Field(min_length=8, max_length=256)]


class RegisterIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"email": "ada@example.com", "password": "correct horse battery", "timezone": "Europe/London"}
            ]
        },
    )

    email: EmailStr
    password: Password
    display_name: Text = Field(default="", max_length=100)
    timezone: TimezoneName = "UTC"


class LoginIn(BaseModel):
    email: EmailStr
    password: str = Field(max_length=256)


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    display_name: str
    timezone: str
    reminder_minutes: list[int]
    created_at: datetime


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: Text | None = Field(default=None, max_length=100)
    timezone: TimezoneName | None = None
    reminder_minutes: ReminderMinutes | None = None


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(max_length=256)
    new_password: Password


class SessionRead(BaseModel):
    """One open sign-in; `current` is the one this request came with."""

    id: uuid.UUID
    created_at: datetime
    expires_at: datetime
    current: bool


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the token expires")


class RegisterOut(TokenOut):
    user: UserRead
