"""After a deploy: is the API up, connected to its database, and doing real work? Signs in a dedicated
smoke-test account (registering it the first time), creates a task, reads it back and deletes it. The
pipeline runs it against the new release and rolls back when a check fails (`todo smoke`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

# The account the checks use unless told otherwise (example.com: the API refuses reserved domains such as
# .invalid in an email address).
DEFAULT_EMAIL = "smoke-test@example.com"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


class _Failed(Exception):
    def __init__(self, check: Check) -> None:
        self.check = check


def _expect(name: str, response: httpx.Response, status: int) -> Check:
    detail = f"{response.status_code} (want {status})"
    if response.status_code != status:
        raise _Failed(Check(name, False, f"{detail}: {response.text[:200]}"))
    return Check(name, True, detail)


async def run(http: httpx.AsyncClient, email: str, password: str) -> list[Check]:
    """The checks in order, stopping at the first that fails (which is then the last in the list)."""
    checks: list[Check] = []
    try:
        checks.append(_expect("API alive (/healthz)", await http.get("/healthz"), 200))
        checks.append(_expect("database reachable (/readyz)", await http.get("/readyz"), 200))
        token, how = await _sign_in(http, email, password)
        checks.append(Check("smoke account signed in", True, how))
        auth = {"Authorization": f"Bearer {token}"}
        title = f"smoke test {datetime.now(UTC).isoformat(timespec='seconds')}"
        created = await http.post("/api/tasks", json={"title": title}, headers=auth)
        checks.append(_expect("task created", created, 201))
        task_id = created.json()["id"]
        read = await http.get(f"/api/tasks/{task_id}", headers=auth)
        checks.append(_expect("task read back", read, 200))
        if read.json()["title"] != title:
            raise _Failed(Check("task read back", False, f"title {read.json()['title']!r}, want {title!r}"))
        checks.append(_expect("task deleted", await http.delete(f"/api/tasks/{task_id}", headers=auth), 204))
    except _Failed as failed:
        checks.append(failed.check)
    except httpx.HTTPError as exc:
        checks.append(Check("API reachable", False, f"{type(exc).__name__}: {exc}"))
    return checks


async def _sign_in(http: httpx.AsyncClient, email: str, password: str) -> tuple[str, str]:
    login = await http.post("/api/auth/login", json={"email": email, "password": password})
    if login.status_code == 200:
        return str(login.json()["access_token"]), "signed in"
    if login.status_code != 401:
        raise _Failed(Check("smoke account signed in", False, f"login answered {login.status_code}"))
    registered = await http.post("/api/auth/register", json={"email": email, "password": password})
    if registered.status_code != 201:
        detail = f"not registered and registering answered {registered.status_code}: {registered.text[:200]}"
        raise _Failed(Check("smoke account signed in", False, detail))
    return str(registered.json()["access_token"]), "registered (first run)"
