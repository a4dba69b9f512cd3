"""The UI's settings: the shared ones plus how patient a page may be."""

from __future__ import annotations

from proyecto4_common.settings import CommonSettings


class UISettings(CommonSettings):
    """INFERENCE_API_URL, MLFLOW_TRACKING_URI, DATA_DB_URL and the UI's own limits."""

    # A page waits at most this long for the API, MLflow or the data DB before it says so.
    ui_request_timeout_s: float = 10.0
    # How many of the latest inference_log rows the monitoring page reads.
    ui_monitoring_rows: int = 5000
