"""Settings read from the environment, with the embedded defaults of design.md.

Every component builds its own settings class on `CommonSettings`, so the variable names
and the defaults under PROYECTO4_HOME exist in one place only.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from proyecto4_common.names import PORTS


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
