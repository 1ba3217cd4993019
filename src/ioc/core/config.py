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
    ngsild_anonymous: str = Field(
        default="",
        description='NGSI-LD tenants open without credentials, e.g. "default:read,city:write"',
    )
    ngsild_max_batch: int = Field(
        default=1000, ge=1, description="entities at most in one NGSI-LD batch operation"
    )
    ngsild_fetch_contexts: bool = Field(
        default=False, description="fetch unknown remote @contexts (else preload them)"
    )
    ngsild_context_timeout: float = Field(
        default=2.0, gt=0, le=30, description="seconds a remote @context fetch may take"
    )
    ngsild_credential_seconds: float = Field(
        default=2.0, ge=0, description="how long the NGSI-LD API reuses a verified credential"
    )
    ngsild_retention: str = Field(
        default="",
        pattern=r"^\s*(([^=,\s]+\s*=\s*(\d+[hdw]|forever)\s*)(,\s*|$))*$",
        description="how long NGSI-LD attribute history is kept, per type: "
        '"default=365d,Streetlight=90d" (h, d, w or forever; empty keeps everything)',
    )
    ngsild_notify_timeout: float = Field(
        default=5.0, gt=0, le=60, description="seconds one NGSI-LD notification attempt may take"
    )
    ngsild_notify_retries: int = Field(
        default=3, ge=0, le=10, description="attempts after the first before a notification fails"
    )
    ngsild_notify_backoff: float = Field(
        default=1.0, ge=0, description="seconds before the first retry; doubled for each next one"
    )
    ngsild_notify_concurrency: int = Field(
        default=32, ge=1, description="NGSI-LD notifications being sent at once, at most"
    )
    devices_validate_writes: bool = Field(
        default=False, description="check NGSI-LD writes of Smart Data Model types (ioc.devices)"
    )
    streetlight_scan_minutes: float = Field(
        default=10.0, gt=0, description="how often the server scans streetlights for faults"
    )
    streetlight_heartbeat_minutes: float = Field(
        default=60.0, gt=0, description="a light silent this long is a no-heartbeat fault"
    )
    streetlight_min_power_w: float = Field(
        default=1.0, ge=0, description="a lamp on drawing less than this is a no-power fault"
    )
    mqtt_url: str = Field(
        default="", description="Mosquitto for devices, mqtt://host:1883; empty: no MQTT bridge"
    )
    ingest_client_id: str = Field(
        default="ioc-ingest", min_length=1, description="the bridge's fixed MQTT client id"
    )
    ingest_command_seconds: float = Field(
        default=60.0, gt=0, description="a command the device has not answered by then expires"
    )
    indicators_recompute_seconds: float = Field(
        default=15.0,
        ge=0,
        description="computed indicators are recomputed from new events at most this often",
    )
    device_simulator: bool = Field(
        default=False, description="stream the simulated Hòa Bình city devices (set by `ioc demo`)"
    )
    device_simulator_seconds: float = Field(
        default=60.0, gt=0, description="how often the simulated devices report"
    )
    device_simulator_fault_rate: float = Field(
        default=0.002, ge=0, description="simulated faults per device per hour"
    )
    report_push_url: str = Field(
        default="", description="national endpoint receiving indicator values (empty: off)"
    )
    report_push_secret: str = Field(
        default="", description="HMAC-SHA256 key signing each pushed report"
    )
    report_push_ed25519_key: str = Field(
        default="",
        description="Ed25519 private key signing each push: a PEM file's path or a base64 seed",
    )
    report_push_key_id: str = Field(
        default="", description="names the Ed25519 key to the receiver (default: its digest)"
    )
    report_push_attempts: int = Field(default=5, ge=1, description="tries per push")
    report_push_backoff_seconds: float = Field(
        default=2.0, ge=0, description="first wait between tries, doubled each time"
    )
    web_basemap_url: str = Field(
        default="",
        description="raster tile URL ({z}/{x}/{y}) under the screen's map; empty: units only",
    )
    web_media_dir: str = Field(
        default="ioc-media", description="folder keeping the photos citizens send with reports"
    )
    alerts_river_levels: str = Field(
        default="5.0,5.6,6.2",
        pattern=r"^\s*\d+(\.\d+)?\s*,\s*\d+(\.\d+)?\s*,\s*\d+(\.\d+)?\s*$",
        description="river gauge heights (m) of flood alarm levels I, II and III, ascending",
    )
    alerts_aqi_levels: str = Field(
        default="150,200",
        pattern=r"^\s*\d+(\.\d+)?\s*,\s*\d+(\.\d+)?\s*$",
        description="AQI above the first raises a warning alert, above the second a critical one",
    )
    alerts_rules: str = Field(
        default="",
        description="comma-separated alert rules to run (empty: all); see `ioc alerts rules`",
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

    @model_validator(mode="after")
    def _check_ngsild_anonymous(self) -> Settings:
        _ = self.ngsild_anonymous_tenants
        return self

    @property
    def ngsild_anonymous_tenants(self) -> dict[str, str]:
        """``"default:read,city:write"`` → {tenant: mode}; ValueError naming what is wrong."""
        out: dict[str, str] = {}
        for item in self.ngsild_anonymous.split(","):
            tenant, _, mode = (part.strip() for part in item.partition(":"))
            if not item.strip():
                continue
            if not tenant or (mode or "read") not in ("read", "write"):
                raise ValueError(
                    f"IOC_NGSILD_ANONYMOUS: {item.strip()!r} is not TENANT:read or TENANT:write"
                    ' (e.g. "default:read,city:write")'
                )
            out[tenant] = mode or "read"
        return out

    @model_validator(mode="after")
    def _check_alert_levels(self) -> Settings:
        for name, levels in (
            ("IOC_ALERTS_RIVER_LEVELS", self.alerts_river_thresholds),
            ("IOC_ALERTS_AQI_LEVELS", self.alerts_aqi_thresholds),
        ):
            if list(levels) != sorted(set(levels)):
                raise ValueError(f"{name}: the levels must rise, lowest first")
        return self

    @property
    def alerts_river_thresholds(self) -> tuple[float, ...]:
        return tuple(float(v) for v in self.alerts_river_levels.split(","))

    @property
    def alerts_aqi_thresholds(self) -> tuple[float, ...]:
        return tuple(float(v) for v in self.alerts_aqi_levels.split(","))

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
