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
    # Sign-in throttling (core.auth.login_wait): failures one client may make for one account,
    # and for all accounts together, before each further try must wait 2, 4, 8 … seconds (capped);
    # failures older than the window are forgotten. Never a lock that another client can trigger.
    login_max_failures: int = 5
    login_client_max_failures: int = 20
    login_max_delay_seconds: int = 900
    login_window_minutes: int = 60
    # Lifetime of a bearer token issued at POST /api/v1/auth/tokens.
    token_days: int = 30
    cookie_secure: bool = False
    import_chunk_rows: int = 20000  # one transaction each; larger chunks amortise per-chunk queries
    # Rows one import file may hold: a few kilobytes of compressed Parquet can hold millions.
    max_import_rows: int = 2_000_000
    # The longest an officer's break-glass access to one person outside their regions may last.
    break_glass_max_hours: int = 24
    auth_cache_seconds: float = 30.0
    request_threads: int = 2
    # Identity linkage thresholds on the model's match weight (log2 odds, identity.model):
    # pairs at or above the link weight are one person at once; between the review weight and
    # it they wait in the review queue for an officer.
    identity_link_weight: float = 8.0
    # Measured on the medium demo (kosh bench identity): from -2 the queue is ~88 % true pairs;
    # a second nationality's passport scores about -3 to -6 (lower the weight to catch it).
    identity_review_weight: float = -2.0
    # Link each new person at ingest (else only `kosh identity rebuild` and the scan link).
    identity_link_at_ingest: bool = True
    # A trained model file (kosh identity train); empty = the model shipped with Kosh.
    identity_model: str = ""
    # Signed audit checkpoints: the web app writes one this often when the chain moved (0: never;
    # `kosh audit checkpoint` from cron still can); the file defaults to KOSH_HOME/audit-checkpoints.jsonl.
    audit_checkpoint_seconds: float = Field(default=300.0, ge=0)
    audit_checkpoint_file: Path | None = None
    audit_checkpoint_syslog: bool = True  # also send each checkpoint to syslog (/dev/log) for a witness
    # Background jobs (platform/jobs.py, e.g. imports started from the page) run by each web process:
    # worker threads (0: none in this process), how long a claim lasts without a heartbeat before
    # another process takes the job over, and how often an idle worker looks for work.
    job_workers: int = Field(default=1, ge=0)
    job_lease_seconds: float = Field(default=60.0, gt=0)
    job_poll_seconds: float = Field(default=2.0, gt=0)
    # The public status page (/status, kosh.flows.selfservice): look-ups one client (IP address) and
    # one document number may make, and share-code checks one client and one code may make, in any
    # window of that many seconds. Counted per process (kosh.platform.ratelimit).
    status_window_seconds: int = Field(default=3600, gt=0)
    status_lookups_per_client: int = Field(default=20, gt=0)
    status_lookups_per_document: int = Field(default=6, gt=0)
    status_checks_per_client: int = Field(default=30, gt=0)
    status_checks_per_code: int = Field(default=10, gt=0)
    # How long a proof of status taken from the public page can be checked.
    status_proof_days: int = Field(default=30, gt=0)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'kosh.db').as_posix()}"

    @property
    def resolved_key_file(self) -> Path:
        return self.key_file or self.home / "keys.json"

    @property
    def resolved_audit_checkpoint_file(self) -> Path:
        return self.audit_checkpoint_file or self.home / "audit-checkpoints.jsonl"


@lru_cache
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    get_settings.cache_clear()
