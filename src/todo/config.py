"""One typed settings object, read from the environment (prefix ``TODO_``)."""

from __future__ import annotations

import secrets
from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Transport(StrEnum):
    local = "local"
    dapr = "dapr"


class Role(StrEnum):
    """Which deployable this process is; decides what it refuses to start without."""

    all_in_one = "all-in-one"
    api = "api"
    notifications = "notifications"
    web = "web"


def default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "todo"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TODO_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default_factory=default_data_dir, description="Where the all-in-one keeps its files"
    )
    database_url: str = Field(default="", description="SQLAlchemy async URL; empty means SQLite in data_dir")
    jwt_secret: SecretStr | None = None
    jwt_expire_minutes: int = Field(default=60 * 24, ge=1)
    transport: Transport = Transport.local
    host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "INFO"
    log_json: bool | None = Field(
        default=None, description="JSON lines; unset: JSON unless stderr is a terminal"
    )
    app_id: str = "todo-backend"
    user_cache_seconds: float = Field(
        default=300.0,
        ge=0,
        description="How long a process reuses a user row or a sign-in's state, in seconds, unless told "
        "of a change (changes are announced to every process at once; this bounds a missed notice)",
    )
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    login_max_failures_per_account: int = 10
    login_max_attempts_per_client: int = 60
    login_window_seconds: int = 900
    relay_batch_size: int = Field(default=500, ge=1)
    relay_poll_seconds: float = Field(default=1.0, gt=0)
    relay_max_backoff_seconds: float = Field(default=30.0, gt=0, description="Longest wait after failures")
    clock_max_sleep_seconds: float = Field(
        default=30.0, gt=0, description="Longest a clock sleeps without a wake-up (a safety net)"
    )
    reminder_late_after_seconds: float = Field(
        default=60.0, gt=0, description="A reminder sent later than this after its time is marked late"
    )
    notifications_port: int = Field(default=8001, ge=1, le=65535)
    web_port: int = Field(default=3000, ge=1, le=65535)
    backend_url: str = Field(
        default="", description="Where the web UI finds the API; empty: this host's API port, or Dapr"
    )
    dapr_http_port: int = Field(default=3500, ge=1, le=65535, description="The sidecar's HTTP port")
    dapr_api_token: SecretStr | None = Field(
        default=None,
        description="The token the sidecar requires on every call (Dapr's API token); none: it requires none",
    )
    dapr_pubsub: str = Field(default="pubsub", description="The Dapr pub/sub component's name")
    dapr_statestore: str = Field(default="statestore", description="The Dapr state store component's name")
    channel_allowed_networks: list[str] = Field(
        default_factory=lambda: ["127.0.0.0/8", "::1/128"],
        description="Networks inside that notification channels may still send to (CIDRs, a JSON list); "
        "everything else that is not a public address is refused. The default suits the all-in-one on a "
        "laptop (a local mail catcher or webhook); the Helm chart allows only what its values list",
    )
    db_pool_size: int = Field(default=20, ge=0, description="0: no pool in the app (behind PgBouncer)")
    db_max_overflow: int = Field(
        default=0,
        ge=0,
        description="Connections opened beyond the pool under load and closed again as it ebbs (decision 67)",
    )
    db_pool_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How long a request waits for a pooled connection before it is answered 503",
    )
    db_connect_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How long opening a database connection may take before the request is answered 503",
    )
    db_pool_ping_idle_seconds: float = Field(
        default=1.0,
        ge=0,
        description="Test a pooled connection before use once it has sat idle this long (0: before every "
        "use); a connection in steady use is trusted, and a dead one found in use invalidates the pool",
    )

    @property
    def dapr_headers(self) -> dict[str, str]:
        """What every call to the sidecar carries."""
        token = self.dapr_api_token
        return {"dapr-api-token": token.get_secret_value()} if token else {}

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'todo.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


class ConfigError(RuntimeError):
    """Raised when a service would start with an unsafe or incomplete configuration."""


def ensure_jwt_secret(settings: Settings, role: Role) -> Settings:
    """The all-in-one keeps a generated secret in its data dir; services must be given one."""
    if settings.jwt_secret is not None and len(settings.jwt_secret.get_secret_value()) >= 32:
        return settings
    if settings.jwt_secret is not None:
        raise ConfigError("TODO_JWT_SECRET must be at least 32 characters long")
    if role is not Role.all_in_one:
        raise ConfigError(
            "TODO_JWT_SECRET is not set. Services refuse to start without it; "
            'generate one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
        )
    secret_file = settings.data_dir / "jwt-secret"
    if not secret_file.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        secret_file.write_text(secrets.token_urlsafe(48))
        secret_file.chmod(0o600)
    return settings.model_copy(update={"jwt_secret": SecretStr(secret_file.read_text().strip())})
