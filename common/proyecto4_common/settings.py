"""Settings read from the environment, with the embedded defaults of design.md.

Every component builds its own settings class on `CommonSettings`, so the variable names
and the defaults under PROYECTO4_HOME exist in one place only.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from proyecto4_common.names import PORTS

# MLflow's client reads these from its process environment on every call, and by default
# retries an unreachable server for minutes: the API and the UI must fail within seconds and
# retry on their own schedule. Whoever starts them sets these (the images' ENV in
# services/Dockerfile, the CLI and the test helpers for child processes); values already in
# the environment win. No code sets them in its own process (os.environ stays untouched).
MLFLOW_CLIENT_ENV = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
    # Download progress bars only clutter a server's log.
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}


def mlflow_client_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The MLFLOW_CLIENT_ENV variables `environ` does not set already."""
    return {key: value for key, value in MLFLOW_CLIENT_ENV.items() if key not in environ}


def default_home() -> Path:
    return Path.home() / ".proyecto4"


class CommonSettings(BaseSettings):
    """PROYECTO4_HOME, DATA_DB_URL, MLFLOW_TRACKING_URI, DATA_SOURCE_URL, INFERENCE_API_URL."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    proyecto4_home: Path = Field(default_factory=default_home)
    # Empty means "the embedded default under PROYECTO4_HOME", filled in below.
    data_db_url: str = ""
    mlflow_tracking_uri: str = ""
    data_source_url: str = f"http://127.0.0.1:{PORTS['data-source']}"
    inference_api_url: str = f"http://127.0.0.1:{PORTS['api']}"

    @model_validator(mode="after")
    def _embedded_defaults(self) -> CommonSettings:
        home = self.proyecto4_home.expanduser().resolve()
        self.proyecto4_home = home
        if not self.data_db_url:
            self.data_db_url = f"sqlite:///{home / 'data.db'}"
        if not self.mlflow_tracking_uri:
            self.mlflow_tracking_uri = f"sqlite:///{home / 'mlflow.db'}"
        return self

    @property
    def mlflow_artifacts_dir(self) -> Path:
        """Where MLflow keeps artifacts on the embedded defaults."""
        return self.proyecto4_home / "mlartifacts"

    def ensure_home(self) -> Path:
        self.proyecto4_home.mkdir(parents=True, exist_ok=True)
        self.mlflow_artifacts_dir.mkdir(parents=True, exist_ok=True)
        return self.proyecto4_home
