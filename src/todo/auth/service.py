"""Account use cases: register, authenticate, read and change the profile; sign-ins opened and revoked,
the password changed."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy import update as update_rows
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from todo import wakeups
from todo.auth.models import AuthSession, User
from todo.auth.schemas import PasswordChange, RegisterIn, UserUpdate
from todo.auth.security import hash_password, verify_password
from todo.errors import Conflict, InvalidInput
from todo.projects.inbox import add_inbox


async def register(session: AsyncSession, *, data: RegisterIn, now: datetime) -> User:
    email = data.email.lower()
    if await session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("an account with this email already exists")
    user = User(
        email=email,
        password_hash=await asyncio.to_thread(hash_password, data.password),
        display_name=data.display_name or email.split("@")[0],
        timezone=data.timezone,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:  # two registrations racing for one email
        raise Conflict("an account with this email already exists") from exc
    add_inbox(session, user, now)
    return user


async def authenticate(session: AsyncSession, *, email: str, password: str) -> User | None:
    user = await session.scalar(select(User).where(User.email == email.lower()))
    # argon2 is deliberately slow: keep it off the event loop
    ok = await asyncio.to_thread(verify_password, user.password_hash if user else None, password)
    return user if ok else None


async def update(session: AsyncSession, *, user: User, patch: UserUpdate, now: datetime) -> User:
    user = await session.merge(user, load=False)  # the caller's row may come detached from the cache
    sent = patch.model_dump(exclude_unset=True, exclude_none=True, exclude={"quiet_hours"})
    for name, value in sent.items():
        setattr(user, name, value)
    if "quiet_hours" in patch.model_fields_set:  # null turns them off
        quiet = patch.quiet_hours
        user.quiet_hours_start = None if quiet is None else quiet.start
        user.quiet_hours_end = None if quiet is None else quiet.end
    user.updated_at = now
    await session.flush()
    wakeups.after_commit(session, wakeups.SIGN_INS, str(user.id))
    return user


async def open_session(
    session: AsyncSession, *, user_id: uuid.UUID, now: datetime, lifetime: timedelta
) -> AuthSession:
    """A new sign-in; the user's sign-ins that have expired are cleared on the way."""
    await session.execute(
        delete(AuthSession).where(AuthSession.user_id == user_id, AuthSession.expires_at <= now)
    )
    opened = AuthSession(id=uuid.uuid4(), user_id=user_id, created_at=now, expires_at=now + lifetime)
    session.add(opened)
    await session.flush()
    return opened


async def active_sessions(
    session: AsyncSession, *, user_id: uuid.UUID, now: datetime
) -> Sequence[AuthSession]:
    query = (
        select(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None), AuthSession.expires_at > now)
        .order_by(AuthSession.created_at.desc())
    )
    return (await session.scalars(query)).all()


async def sign_out(
    session: AsyncSession, *, user_id: uuid.UUID, now: datetime, keep: uuid.UUID | None = None,
    only: uuid.UUID | None = None,
) -> None:  # fmt: skip
    """Revoke the user's open sign-ins: `only` that one, or all of them but `keep`. Every process's sign-in
    cache forgets the user when this commits."""
    query = update_rows(AuthSession).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
    if only is not None:
        query = query.where(AuthSession.id == only)
    if keep is not None:
        query = query.where(AuthSession.id != keep)
    await session.execute(query.values(revoked_at=now))
    wakeups.after_commit(session, wakeups.SIGN_INS, str(user_id))


async def change_password(
    session: AsyncSession, *, user: User, change: PasswordChange, current_session: uuid.UUID, now: datetime
) -> None:
    """Set a new password after checking the current one; every other sign-in is revoked."""
    user = await session.merge(user, load=False)
    if not await asyncio.to_thread(verify_password, user.password_hash, change.current_password):
        raise InvalidInput("current_password", "is wrong")
    user.password_hash = await asyncio.to_thread(hash_password, change.new_password)
    user.updated_at = now
    await session.flush()
    await sign_out(session, user_id=user.id, now=now, keep=current_session)
