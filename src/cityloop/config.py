"""Settings: one typed object, read once from ``CITYLOOP_*`` environment variables and ``.env``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITYLOOP_", env_file=".env", extra="ignore")

    var_dir: Path = Field(default=Path("var"), description="Where the database and files live")
    database_url: str = Field(default="", description="SQLAlchemy URL; default SQLite in var/")
    timezone: str = "Asia/Shanghai"
    default_locale: str = "zh_CN"
    secret_key: str = Field(default="", description="Signs sessions and tokens")
    redis_url: str = Field(default="", description="Redis for live notices between workers")
    huey_redis: str = Field(
        default="", description="Redis URL of the background-job queue (default: SQLite in var/)"
    )
    token_ttl_hours: float = Field(default=12, gt=0, description="Bearer token lifetime")
    max_upload_mb: float = Field(default=10, gt=0, description="Largest photo accepted")
    max_request_mb: float = Field(default=60, gt=0, description="Largest request body")
    photo_threads: int = Field(
        default=1,
        ge=1,
        le=32,
        description="Threads that clean and store uploaded photos. One keeps the event loop's"
        " share of the interpreter lock (each more thread took some of it: ADR 0005); more let"
        " many large photos use more cores",
    )
    demo: bool = Field(default=False, description="Mark pages as showing synthetic demo data")
    inline_writes: bool = Field(
        default=True,
        description="On SQLite, run write transactions on the event loop (one writer, no thread"
        " hop); PostgreSQL writes always run in the thread pool",
    )

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'cityloop.db').as_posix()}"

    @property
    def attachments_dir(self) -> Path:
        return self.var_dir / "attachments"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
