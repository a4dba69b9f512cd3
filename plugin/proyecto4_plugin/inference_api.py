"""The inference API as the plugin uses it: model info, reload, one prediction, metrics."""

from __future__ import annotations

from proyecto4_plugin.http import Service


def metric_total(metrics_text: str, name: str, **labels: str) -> float | None:
    """Sum of the samples of one metric in Prometheus text, optionally filtered by labels.

    None when the metric has no sample at all (not exported), which is not the same as 0.
    """
    total = None
    for line in metrics_text.splitlines():
        if not line.startswith(name) or line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        metric, _, label_text = series.partition("{")
        if metric != name:
            continue
        if any(f'{key}="{val}"' not in label_text for key, val in labels.items()):
            continue
        total = (total or 0.0) + float(value)
    return total


def served_version(model_info: dict) -> str | None:
    """The version in a GET /model answer."""
    version = model_info.get("model_version", model_info.get("version"))
    return None if version is None else str(version)


class InferenceApi:
    def __init__(self, service: Service):
        self.service = service

    def model(self) -> dict:
        return self.service.json("GET", "/model")

    def load_model(self, version: str | None = None) -> dict:
        body = {"version": version} if version else None
        return self.service.json("POST", "/load_model/", json=body)

    def predict(self, record: dict) -> dict:
        return self.service.json("POST", "/predict/", json=record)

    def metrics(self) -> str:
        return self.service.call("GET", "/metrics").text
