"""/api/auth and /api/me."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import APIRouter, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from todo.auth import service
from todo.auth.schemas import LoginIn, RegisterIn, RegisterOut, TokenOut, UserRead, UserUpdate
from todo.auth.security import issue_token
from todo.bootstrap import Container
from todo.deps import ContainerDep, CurrentUser, NowDep, SessionDep
from todo.errors import Unauthorized

router = APIRouter(tags=["auth"])

_LOGIN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": LoginIn.model_json_schema()},
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["username", "password"],
                    "properties": {
                        "username": {"type": "string", "description": "your email"},
                        "password": {"type": "string", "format": "password"},
                    },
                }
            },
        },
    }
}


def _token(container: Container, user_id: uuid.UUID) -> TokenOut:
    settings = container.settings
    assert settings.jwt_secret is not None
    lifetime = timedelta(minutes=settings.jwt_expire_minutes)
    token = issue_token(
        user_id,
        secret=settings.jwt_secret.get_secret_value(),
        now=container.clock.now(),
        lifetime=lifetime,
    )
    return TokenOut(access_token=token, expires_in=int(lifetime.total_seconds()))


@router.post("/api/auth/register", status_code=status.HTTP_201_CREATED, response_model=RegisterOut)
async def register(
    data: RegisterIn, session: SessionDep, container: ContainerDep, now: NowDep
) -> RegisterOut:
    user = await service.register(session, data=data, now=now)
    await session.commit()
    token = _token(container, user.id)
    return RegisterOut(**token.model_dump(), user=UserRead.model_validate(user))


@router.post("/api/auth/login", response_model=TokenOut, openapi_extra=_LOGIN_BODY)
async def login(request: Request, session: SessionDep, container: ContainerDep) -> TokenOut:
    """Sign in with `{"email", "password"}` as JSON, or the OAuth2 password form (`username` = email)."""
    credentials = await _read_credentials(request)
    guard, now = container.login_guard, container.clock.now().timestamp()
    client = request.client.host if request.client else "unknown"
    await guard.before_attempt(email=credentials.email.lower(), client=client, now=now)
    user = await service.authenticate(session, email=credentials.email, password=credentials.password)
    await guard.after_attempt(email=credentials.email.lower(), succeeded=user is not None, now=now)
    if user is None:
        raise Unauthorized("wrong email or password")
    return _token(container, user.id)


async def _read_credentials(request: Request) -> LoginIn:
    content_type = request.headers.get("content-type", "")
    try:
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            return LoginIn.model_validate({"email": form.get("username"), "password": form.get("password")})
        return LoginIn.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from exc


@router.get("/api/me", response_model=UserRead, tags=["me"])
async def read_me(user: CurrentUser) -> UserRead:
    return UserRead.model_validate(user)


@router.patch("/api/me", response_model=UserRead, tags=["me"])
async def update_me(
    changes: UserUpdate, user: CurrentUser, session: SessionDep, container: ContainerDep, now: NowDep
) -> UserRead:
    user = await service.update(session, user=user, changes=changes, now=now)
    await session.commit()
    container.user_cache.forget(user.id)
    return UserRead.model_validate(user)
