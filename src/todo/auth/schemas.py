"""What the auth endpoints accept and answer."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, model_validator

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


class QuietHours(BaseModel):
    """Wall times in your time zone; `22:00` to `07:00` spans midnight."""

    model_config = ConfigDict(from_attributes=True, extra="forbid")

    start: time = Field(examples=["22:00"])
    end: time = Field(examples=["07:00"])

    @model_validator(mode="after")
    def _a_window(self) -> QuietHours:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("start and end are wall times in your time zone: no offset")
        if self.start == self.end:
            raise ValueError("start and end must differ")
        return self


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    display_name: str
    timezone: str
    reminder_minutes: list[int]
    quiet_hours: QuietHours | None = Field(
        description="Channel deliveries (not the inbox) that fall inside them wait until they end"
    )
    created_at: datetime


class UserUpdate(BaseModel):
    """PATCH: the fields sent change; `quiet_hours: null` turns them off."""

    model_config = ConfigDict(extra="forbid")

    display_name: Text | None = Field(default=None, max_length=100)
    timezone: TimezoneName | None = None
    reminder_minutes: ReminderMinutes | None = None
    quiet_hours: QuietHours | None = None


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


class ApiTokenCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "home automation", "scope": "read"}]}
    )

    name: Annotated[Text, Field(min_length=1, max_length=100)]
    scope: Literal["read", "write"] = Field(description="read: GET only; write: everything a sign-in may do "
                                            "but manage sign-ins and tokens")  # fmt: skip


class ApiTokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    scope: str
    hint: str = Field(description="The token's first characters")
    created_at: datetime
    last_used_at: datetime | None = Field(description="To the minute")


class ApiTokenMade(ApiTokenRead):
    token: str = Field(description="Shown only now: send it as `Authorization: Bearer <token>`")


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the token expires")


class RegisterOut(TokenOut):
    user: UserRead
