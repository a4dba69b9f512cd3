"""Settings of the inference API, from the environment (INFERENCE_API_*) on top of the
shared ones (DATA_DB_URL, MLFLOW_TRACKING_URI, ...)."""

from __future__ import annotations

from proyecto4_common.names import MODEL_NAME
from proyecto4_common.settings import CommonSettings
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

MIN_SECRET_LENGTH = 16


def split_keys(text: str) -> list[str]:
    return [key.strip() for key in text.replace(",", "\n").splitlines() if key.strip()]


def _env(name: str, default, **kwargs):
    return Field(default, validation_alias=f"INFERENCE_API_{name}", **kwargs)


class ApiSettings(CommonSettings):
    # populate_by_name: code and tests may pass the short field names directly.
    model_config = SettingsConfigDict(
        env_prefix="", extra="ignore", case_sensitive=False, populate_by_name=True
    )

    model_name: str = _env("MODEL_NAME", MODEL_NAME)
    # Seconds between checks of the `production` alias (the one the pipeline and the plugin
    # move); 0 turns the watcher off.
    watch_interval_s: float = _env("WATCH_INTERVAL_S", 30.0, ge=0)
    # Largest list accepted by POST /predict/.
    max_records: int = _env("MAX_RECORDS", 10_000, ge=1)
    # Largest POST /predict/ body, in bytes; above it: 413 before the body is parsed (or, with
    # no Content-Length, read past the limit). 16 MiB lets a largest list of 10,000 records
    # through at 1.6 KB a record, over twice a pretty-printed record of the flight model with
    # its key (0.7 KB); raise it with max_records.
    max_body_bytes: int = _env("MAX_BODY_BYTES", 16 * 1024 * 1024, ge=1)
    # inference_log writer: rows kept in memory while the DB is slow or down, rows per
    # INSERT, longest wait before a partial batch is written, pause between retries.
    log_buffer_rows: int = _env("LOG_BUFFER_ROWS", 200_000, ge=1)
    log_batch_rows: int = _env("LOG_BATCH_ROWS", 5_000, ge=1)
    log_flush_interval_s: float = _env("LOG_FLUSH_INTERVAL_S", 0.2, gt=0)
    log_retry_interval_s: float = _env("LOG_RETRY_INTERVAL_S", 1.0, gt=0)
    # How long a request waits for room in a full buffer while the DB is up but slower than
    # the traffic (0: drop at once). While the DB is down nobody waits: serving goes on.
    log_max_wait_s: float = _env("LOG_MAX_WAIT_S", 2.0, ge=0)
    # How long shutdown waits for buffered rows to reach the DB before counting them dropped.
    log_drain_timeout_s: float = _env("LOG_DRAIN_TIMEOUT_S", 10.0, ge=0)
    # Drift: PSI over the last `drift_window` served records, once at least
    # `drift_min_rows` were served (PSI on a handful of rows is noise).
    drift_window: int = _env("DRIFT_WINDOW", 5_000, ge=1)
    drift_min_rows: int = _env("DRIFT_MIN_ROWS", 100, ge=1)
    # Estimated AUROC (CBPE) over the last `estimation_window` served probabilities, once at
    # least `estimation_min_rows` were served: its standard error on a few hundred flights
    # is already about 0.03, on fewer it says little.
    estimation_window: int = _env("ESTIMATION_WINDOW", 5_000, ge=2)
    estimation_min_rows: int = _env("ESTIMATION_MIN_ROWS", 500, ge=2)
    # Seconds between reads of model_quality for the live-quality gauges; 0: not exported.
    quality_refresh_s: float = _env("QUALITY_REFRESH_S", 60.0, ge=0)

    # Bearer token of the admin endpoints (POST /load_model/); empty: they refuse everyone.
    # SecretStr: never shown in a repr, a log line or an error.
    admin_token: SecretStr = _env("ADMIN_TOKEN", SecretStr(""))
    # Keys /predict/ accepts as `Authorization: Bearer <key>`, comma or newline separated,
    # so a new key can be added before the old one is removed; empty: /predict/ is open.
    api_keys: SecretStr = _env("API_KEYS", SecretStr(""))

    @property
    def admin_token_value(self) -> str:
        return self.admin_token.get_secret_value().strip()

    @property
    def api_key_list(self) -> list[str]:
        return split_keys(self.api_keys.get_secret_value())

    # Not a pydantic validator: its errors would print the input, the secrets included.
    def check_secrets(self) -> None:
        """Refuses credentials short enough to be guessed through the API."""
        for name, values in (
            ("INFERENCE_API_ADMIN_TOKEN", [self.admin_token_value]),
            ("INFERENCE_API_API_KEYS", self.api_key_list),
        ):
            if any(0 < len(value) < MIN_SECRET_LENGTH for value in values):
                raise ValueError(f"{name}: each must be at least {MIN_SECRET_LENGTH} characters")

    @model_validator(mode="after")
    def _largest_list_fits_the_log_buffer(self):
        # Otherwise the rows of a largest list could never be buffered, only dropped.
        if self.log_buffer_rows < self.max_records:
            raise ValueError(
                f"INFERENCE_API_LOG_BUFFER_ROWS ({self.log_buffer_rows}) must be at least "
                f"INFERENCE_API_MAX_RECORDS ({self.max_records})"
            )
        return self
