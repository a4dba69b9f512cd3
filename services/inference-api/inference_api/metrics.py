"""Prometheus metrics of the API, in a registry of its own per app (names: proyecto4_common.names)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from proyecto4_common import names
from proyecto4_common.names import LOAD_MODEL_PATH, PREDICT_PATH

# Sub-millisecond buckets: the one-row path takes well under a millisecond.
LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.002,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
)


REFUSAL_LABELS = {
    LOAD_MODEL_PATH: ("missing", "wrong", "not_configured"),
    PREDICT_PATH: ("missing", "wrong"),
}


class _DriftCollector(Collector):
    def __init__(self, psi: Callable[[], dict[str, float]]):
        self._psi = psi

    def collect(self):
        family = GaugeMetricFamily(
            names.FEATURE_DRIFT_PSI,
            "Population stability index of each feature over the recent served records",
            labels=["feature"],
        )
        for feature, value in self._psi().items():
            family.add_metric([feature], value)
        yield family


class _EstimateCollector(Collector):
    def __init__(self, estimate: Callable[[], tuple[str, float | None] | None]):
        self._estimate = estimate

    def collect(self):
        family = GaugeMetricFamily(
            names.MODEL_ESTIMATED_AUROC,
            "AUROC estimated (CBPE) from the recent calibrated probabilities the model served",
            labels=["model_version"],
        )
        served = self._estimate()
        if served is not None and served[1] is not None:
            family.add_metric([served[0]], served[1])
        yield family


class ApiMetrics:
    def __init__(
        self,
        psi: Callable[[], dict[str, float]],
        buffered: Callable[[], int],
        estimate: Callable[[], tuple[str, float | None] | None] = lambda: None,
    ):
        self.registry = r = CollectorRegistry()
        self.requests = Counter(
            names.PREDICT_REQUESTS_TOTAL,
            "Requests to /predict/ by outcome",
            ["outcome"],
            registry=r,
        )
        for outcome in ("success", "invalid", "error"):
            self.requests.labels(outcome)
        self.success = self.requests.labels("success")
        self.invalid = self.requests.labels("invalid")
        self.error = self.requests.labels("error")
        self.latency = Histogram(
            names.PREDICT_LATENCY_SECONDS,
            "Time to answer /predict/",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        predictions = Counter(
            names.PREDICTIONS_TOTAL,
            "Predictions served by predicted class",
            ["predicted_class"],
            registry=r,
        )
        self.predictions = {}  # filled per model in `serving`, keyed by class index
        self._predictions = predictions
        self.served_version = Gauge(
            names.SERVED_MODEL_VERSION, "Version of the model in service (0: none)", registry=r
        )
        self.model_loaded = Gauge(
            names.MODEL_LOADED, "1 when a model is loaded and serving", registry=r
        )
        self.log_written = Counter(
            names.INFERENCE_LOG_ROWS_WRITTEN,
            "Rows written to inference_log",
            registry=r,
        )
        self.log_dropped = Counter(
            names.INFERENCE_LOG_ROWS_DROPPED,
            "inference_log rows dropped (buffer full or shutdown with the DB down)",
            registry=r,
        )
        self.log_waited = Counter(
            names.INFERENCE_LOG_WAIT_SECONDS,
            "Seconds requests waited for room in a full inference_log buffer",
            registry=r,
        )
        Gauge(
            names.INFERENCE_LOG_ROWS_BUFFERED,
            "inference_log rows waiting to be written",
            registry=r,
        ).set_function(buffered)
        self.auth_refusals = Counter(
            names.AUTH_REFUSALS_TOTAL,
            "Requests refused for a missing or wrong credential",
            ["endpoint", "reason"],
            registry=r,
        )
        # Present at 0 from the start, so rate() and alerts see the first refusal.
        for endpoint, reasons in REFUSAL_LABELS.items():
            for reason in reasons:
                self.auth_refusals.labels(endpoint, reason)
        r.register(_DriftCollector(psi))
        r.register(_EstimateCollector(estimate))

    def serving(self, version: str, categories: tuple[str, str]) -> None:
        """Called on every swap: the version gauge and the class labels of the new model."""
        self.served_version.set(float(version) if version.isdigit() else 0)
        self.model_loaded.set(1)
        self.predictions = {i: self._predictions.labels(c) for i, c in enumerate(categories)}
