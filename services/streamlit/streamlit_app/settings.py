"""The UI's settings: the shared ones plus how patient a page may be."""

from __future__ import annotations

from proyecto4_common.settings import CommonSettings
from pydantic import SecretStr


class UISettings(CommonSettings):
    """INFERENCE_API_URL, MLFLOW_TRACKING_URI, DATA_DB_URL and the UI's own limits."""

    # A page waits at most this long for the API, MLflow or the data DB before it says so.
    ui_request_timeout_s: float = 10.0
    # How many of the latest inference_log rows the monitoring page reads.
    ui_monitoring_rows: int = 5000
    # The API's admin token (INFERENCE_API_ADMIN_TOKEN): only with it does the predict page
    # offer to load the production model; without it the page says how an operator does.
    inference_api_admin_token: SecretStr = SecretStr("")
    # One of the API's keys (INFERENCE_API_KEY), sent with predictions when the API wants one.
    inference_api_key: SecretStr = SecretStr("")

    @property
    def can_load_models(self) -> bool:
        return bool(self.inference_api_admin_token.get_secret_value().strip())

    def inference_api(self):
        from streamlit_app.api_client import InferenceApi

        return InferenceApi(
            self.inference_api_url,
            self.ui_request_timeout_s,
            admin_token=self.inference_api_admin_token.get_secret_value().strip(),
            api_key=self.inference_api_key.get_secret_value().strip(),
        )
