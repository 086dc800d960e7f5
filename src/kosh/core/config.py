"""Settings from the environment (KOSH_*), with the embedded SQLite default under ./.kosh/."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KOSH_", extra="ignore")

    home: Path = Field(default=Path(".kosh"), description="folder for the embedded database and key file")
    database_url: str | None = None
    key_file: Path | None = None
    jurisdiction: str = "kz"
    max_body_bytes: int = 5 * 1024 * 1024
    max_import_bytes: int = 200 * 1024 * 1024
    session_hours: int = 8
    login_max_failures: int = 5
    login_window_minutes: int = 15
    cookie_secure: bool = False
    import_chunk_rows: int = 20000  # one transaction each; larger chunks amortise per-chunk queries
    auth_cache_seconds: float = 30.0
    request_threads: int = 2
    # Pairs whose match weight reaches this wait in the review queue (identity.rules.WEIGHTS).
    identity_review_weight: float = 8.0

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'kosh.db').as_posix()}"

    @property
    def resolved_key_file(self) -> Path:
        return self.key_file or self.home / "keys.json"


@lru_cache
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    get_settings.cache_clear()
