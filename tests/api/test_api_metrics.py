"""GET /metrics: the counters move with what the API served."""

from __future__ import annotations

import re

import httpx
from api_helpers import metric, wait_until
from proyecto4_common.drift import expected_fractions


def test_metrics_count_requests_predictions_and_log_rows(api, record, trained_model):
    names = ("success", "invalid")
    before = {o: metric(api, "predict_requests_total", outcome=o) for o in names}
    predictions_before = sum(
        metric(api, "predictions_total", predicted_class=c) for c in ("on time", "delayed")
    )
    latency_before = metric(api, "predict_latency_seconds_count")
    written_before = metric(api, "inference_log_rows_written_total")

    for _ in range(3):
        assert httpx.post(f"{api}/predict/", json=record).status_code == 200
    assert httpx.post(f"{api}/predict/", json=[record, record]).status_code == 200
    assert httpx.post(f"{api}/predict/", json={"nope": 1}).status_code == 422
    assert httpx.post(f"{api}/predict/", json=[]).status_code == 422

    assert metric(api, "predict_requests_total", outcome="success") == before["success"] + 4
    assert metric(api, "predict_requests_total", outcome="invalid") == before["invalid"] + 2
    predictions = sum(
        metric(api, "predictions_total", predicted_class=c) for c in ("on time", "delayed")
    )
    assert predictions == predictions_before + 5
    assert metric(api, "predict_latency_seconds_count") == latency_before + 6
    assert metric(api, "served_model_version") == float(trained_model.version)
    assert metric(api, "model_loaded") == 1.0
    wait_until(
        lambda: metric(api, "inference_log_rows_written_total") == written_before + 5,
        30,
        "5 rows written to inference_log",
    )
    assert metric(api, "inference_log_rows_buffered") == 0.0
    assert metric(api, "inference_log_rows_dropped_total") == 0.0


def test_drift_is_reported_per_feature_with_a_reference(api, record, trained_model):
    # The same record over and over: every row in one bin of each feature.
    assert httpx.post(f"{api}/predict/", json=[record] * 10).status_code == 200

    text = httpx.get(f"{api}/metrics").text

    referenced = {f.name: f.reference for f in trained_model.spec.features if f.reference}
    assert referenced
    reported = dict(
        re.findall(r'^feature_drift_psi\{feature="([^"]+)"\} (\S+)$', text, re.MULTILINE)
    )
    assert set(reported) == set(referenced)
    # Where no reference bin holds more than half the rows, one bin taking all of them
    # means PSI > 0.5 * ln 2; features constant in training (e.g. one month) stay near 0.
    spread = [n for n, ref in referenced.items() if expected_fractions(ref).max() <= 0.5]
    assert spread
    for name in spread:
        assert float(reported[name]) > 0.3, name
