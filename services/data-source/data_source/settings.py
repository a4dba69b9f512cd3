"""The data source's settings, read from DATA_SOURCE_* environment variables."""

from __future__ import annotations

from proyecto4_common.names import PORTS
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DataSourceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DATA_SOURCE_", extra="ignore")

    # Number of disjoint shards the rows are split into; clients ask for groups 1..groups.
    groups: int = Field(default=1, ge=1)
    # Fault injection, so that clients' retries can be exercised against a real server:
    # the share of /data requests answered 503, and a delay added to every /data answer.
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    latency_ms: int = Field(default=0, ge=0)
    # Fixes the sequence of injected errors; unset draws them from the OS.
    seed: int | None = None
    # Only `python -m data_source` reads these; container platforms often set PORT.
    host: str = "127.0.0.1"
    port: int = Field(
        default=PORTS["data-source"], validation_alias=AliasChoices("DATA_SOURCE_PORT", "PORT")
    )
