"""Account use cases: register, authenticate, read and change the profile."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from todo.auth.models import User
from todo.auth.schemas import RegisterIn, UserUpdate
from todo.auth.security import hash_password, verify_password
from todo.errors import Conflict


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
    return user


async def authenticate(session: AsyncSession, *, email: str, password: str) -> User | None:
    user = await session.scalar(select(User).where(User.email == email.lower()))
    # argon2 is deliberately slow: keep it off the event loop
    ok = await asyncio.to_thread(verify_password, user.password_hash if user else None, password)
    return user if ok else None


async def update(session: AsyncSession, *, user: User, changes: UserUpdate, now: datetime) -> User:
    user = await session.merge(user, load=False)  # the caller's row may come detached from the cache
    for name, value in changes.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(user, name, value)
    user.updated_at = now
    await session.flush()
    return user
