"""Settings, read from ``IOC_*`` environment variables (and ``.env``) in one place."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///ioc.db"
PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "ioc"}


class Settings(BaseSettings):
    """Everything an operator can set; each field is ``IOC_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="IOC_", env_file=".env", extra="ignore")

    environment: Literal["development", "production"] = "development"
    database_url: str = DEFAULT_DATABASE_URL
    bus_url: str = Field(default="memory://", description="memory:// or nats://host:port")
    bus_stream: str = Field(default="IOC", description="JetStream stream holding the events")
    bus_prefix: str = Field(default="ioc", description="NATS subjects are <prefix>.<event type>")
    secret_key: str = Field(default="", description="signs API tokens; required in production")
    token_minutes: int = Field(default=12 * 60, ge=1)
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    public_reference_data: bool = Field(
        default=True, description="places and agencies readable without login"
    )
    province_name: str = "Hòa Bình"
    open311_jurisdiction: str = Field(
        default="", description="jurisdiction_id Open311 clients must send; empty accepts any"
    )
    open311_posts_per_minute_key: int = Field(default=120, ge=1)
    open311_posts_per_minute_ip: int = Field(default=30, ge=1)
    feedback_duplicate_radius_m: float = Field(default=100.0, gt=0)
    feedback_duplicate_days: int = Field(default=7, ge=0)
    feedback_escalation_minutes: float = Field(
        default=15.0, gt=0, description="how often the server raises overdue feedback"
    )
    demo_simulate: bool = Field(
        default=False, description="keep adding simulated activity (set by `ioc demo`)"
    )
    demo_simulate_seconds: float = Field(
        default=20.0, gt=0, description="how often the simulator adds a report and moves some on"
    )
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.environment == "production" and self.secret_key.strip() in PLACEHOLDER_SECRETS:
            raise ValueError(
                "IOC_SECRET_KEY must be set to a long random value when IOC_ENVIRONMENT=production"
                " (for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
