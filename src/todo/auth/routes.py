"""/api/auth and /api/me."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from fastapi import APIRouter, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from todo.auth import api_tokens, service
from todo.auth.schemas import (
    ApiTokenCreate,
    ApiTokenMade,
    ApiTokenRead,
    LoginIn,
    PasswordChange,
    RegisterIn,
    RegisterOut,
    SessionRead,
    TokenOut,
    UserRead,
    UserUpdate,
)
from todo.auth.security import TokenClaims, issue_token
from todo.config import Settings
from todo.deps import ClockDep, CurrentSignIn, CurrentUser, LoginGuardDep, NowDep, SessionDep, SettingsDep
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


async def _sign_in(session: AsyncSession, settings: Settings, now: datetime, user_id: uuid.UUID) -> TokenOut:
    """A new sign-in (committed) and the token that names it."""
    assert settings.jwt_secret is not None
    lifetime = timedelta(minutes=settings.jwt_expire_minutes)
    opened = await service.open_session(session, user_id=user_id, now=now, lifetime=lifetime)
    await session.commit()
    claims = TokenClaims(user_id, opened.id)
    token = issue_token(claims, secret=settings.jwt_secret.get_secret_value(), now=now, lifetime=lifetime)
    return TokenOut(access_token=token, expires_in=int(lifetime.total_seconds()))


@router.post("/api/auth/register", status_code=status.HTTP_201_CREATED, response_model=RegisterOut)
async def register(data: RegisterIn, session: SessionDep, settings: SettingsDep, now: NowDep) -> RegisterOut:
    user = await service.register(session, data=data, now=now)
    read = UserRead.model_validate(user)
    token = await _sign_in(session, settings, now, user.id)  # commits the account with its first sign-in
    return RegisterOut(**token.model_dump(), user=read)


@router.post("/api/auth/login", response_model=TokenOut, openapi_extra=_LOGIN_BODY)
async def login(
    request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep, guard: LoginGuardDep
) -> TokenOut:
    """Sign in with `{"email", "password"}` as JSON, or the OAuth2 password form (`username` = email)."""
    credentials = await _read_credentials(request)
    now = clock.now()
    client = request.client.host if request.client else "unknown"
    await guard.before_attempt(email=credentials.email.lower(), client=client, now=now.timestamp())
    user = await service.authenticate(session, email=credentials.email, password=credentials.password)
    await guard.after_attempt(
        email=credentials.email.lower(), succeeded=user is not None, now=now.timestamp()
    )
    if user is None:
        raise Unauthorized("wrong email or password")
    return await _sign_in(session, settings, now, user.id)


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
async def update_me(changes: UserUpdate, user: CurrentUser, session: SessionDep, now: NowDep) -> UserRead:
    user = await service.update(session, user=user, patch=changes, now=now)
    await session.commit()
    return UserRead.model_validate(user)


@router.post("/api/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(signed_in: CurrentSignIn, session: SessionDep, now: NowDep) -> Response:
    """Sign out: the token this request came with stops working (401) from now on."""
    await service.sign_out(session, user_id=signed_in.user.id, now=now, only=signed_in.session_id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/api/auth/sessions", response_model=list[SessionRead])
async def list_sessions(signed_in: CurrentSignIn, session: SessionDep, now: NowDep) -> list[SessionRead]:
    """The account's open sign-ins, newest first."""
    rows = await service.active_sessions(session, user_id=signed_in.user.id, now=now)
    return [SessionRead(id=r.id, created_at=r.created_at, expires_at=r.expires_at,
                        current=r.id == signed_in.session_id) for r in rows]  # fmt: skip


@router.delete("/api/auth/sessions", status_code=status.HTTP_204_NO_CONTENT)
async def sign_out_everywhere(signed_in: CurrentSignIn, session: SessionDep, now: NowDep) -> Response:
    """Sign out everywhere: every token of the account stops working, this one included."""
    await service.sign_out(session, user_id=signed_in.user.id, now=now)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/api/me/password", status_code=status.HTTP_204_NO_CONTENT, tags=["me"])
async def change_password(
    change: PasswordChange,
    signed_in: CurrentSignIn,
    session: SessionDep,
    now: NowDep,
) -> Response:
    """Change the password; every other sign-in of the account ends (this one goes on)."""
    await service.change_password(
        session, user=signed_in.user, change=change, current_session=signed_in.session_id, now=now
    )
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/api/me/tokens", status_code=status.HTTP_201_CREATED, response_model=ApiTokenMade, tags=["me"])
async def make_api_token(
    data: ApiTokenCreate, signed_in: CurrentSignIn, session: SessionDep, now: NowDep
) -> ApiTokenMade:
    """A personal API token for scripts and integrations: send it as `Authorization: Bearer <token>`. It
    is shown only in this answer (only its hash is kept); a `read` token may only read."""
    row, token = await api_tokens.create(session, user=signed_in.user, data=data, now=now)
    await session.commit()
    return ApiTokenMade(**ApiTokenRead.model_validate(row).model_dump(), token=token)


@router.get("/api/me/tokens", response_model=list[ApiTokenRead], tags=["me"])
async def list_api_tokens(signed_in: CurrentSignIn, session: SessionDep) -> list[ApiTokenRead]:
    """Your API tokens (never the tokens themselves), with when each was last used."""
    return [
        ApiTokenRead.model_validate(row) for row in await api_tokens.get_all(session, user=signed_in.user)
    ]


@router.delete("/api/me/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["me"])
async def revoke_api_token(token_id: uuid.UUID, signed_in: CurrentSignIn, session: SessionDep) -> Response:
    """It stops working at once."""
    await api_tokens.revoke(session, user=signed_in.user, token_id=token_id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
