"""model_estimated_auroc: CBPE over the calibrated probabilities the served model gave, on
the real trained model behind a real uvicorn (inference_api.estimate)."""

from __future__ import annotations

import random
import re

import httpx
import numpy as np
import pytest
from api_helpers import api_env, running_api
from inference_api.estimate import EstimateWindow
from loadtest.payloads import RecordGenerator
from proyecto4_common import names
from proyecto4_common.estimation import estimated_auroc
from proyecto4_common.feature_spec import Calibration, FeatureSpec, NumericFeature

WINDOW = 400
MIN_ROWS = 300


def _estimates(url: str) -> dict[str, float]:
    text = httpx.get(f"{url}/metrics").text
    pattern = rf'^{names.MODEL_ESTIMATED_AUROC}\{{model_version="([^"]+)"\}} (\S+)$'
    return {v: float(x) for v, x in re.findall(pattern, text, re.MULTILINE)}


def _served(client: httpx.Client, body) -> list[float]:
    response = client.post("/predict/", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    items = answer["predictions"] if isinstance(body, list) else [answer]
    return [item["probability"] for item in items]


def test_the_estimate_appears_at_min_rows_and_follows_the_window(trained_model, log_db):
    env = api_env(trained_model, log_db, estimation_window=WINDOW, estimation_min_rows=MIN_ROWS)
    records = RecordGenerator(trained_model.spec, rng=random.Random(23))
    served: list[float] = []

    with running_api(env) as url, httpx.Client(base_url=url, timeout=60) as client:
        # Both ways in: a list (worker thread) and one-record requests (the fast path).
        served += _served(client, records.records(MIN_ROWS - 50))
        for _ in range(49):
            served += _served(client, records.record())
        below = _estimates(url)
        served += _served(client, records.record())
        at_min, served_at_min = _estimates(url), list(served)
        # Past the window's end: the ring wraps and keeps the newest WINDOW only.
        served += _served(client, records.records(250))
        wrapped = _estimates(url)

    spec = trained_model.spec
    assert below == {}
    assert at_min == {
        trained_model.version: pytest.approx(
            estimated_auroc(spec.calibrated(served_at_min)), abs=1e-12
        )
    }
    newest = spec.calibrated(served[-WINDOW:])
    assert wrapped == {trained_model.version: pytest.approx(estimated_auroc(newest), abs=1e-12)}
    # The window moved: the estimate is not that of every row served.
    assert estimated_auroc(spec.calibrated(served)) != pytest.approx(wrapped[trained_model.version])
    # The model separates delays somewhat: a CBPE estimate of a real model, not 0.5.
    assert 0.55 < wrapped[trained_model.version] < 0.95


SPEC = FeatureSpec(
    model_name="flight-delay",
    target="delayed",
    features=[NumericFeature(name="hour", kind="integer", min=0, max=23)],
    # An overconfident model: below 0.5 it means about 0.3, above it about 0.6.
    calibration=Calibration(x=[0.0, 0.49, 0.51, 1.0], y=[0.3, 0.3, 0.6, 0.6]),
)


def test_the_estimate_reads_the_probabilities_through_the_models_calibration():
    window = EstimateWindow(SPEC, size=1_000, min_rows=10)
    probabilities = np.random.default_rng(3).uniform(0, 1, 1_000)
    window.add(probabilities.tolist())

    estimate = window.auroc()

    assert estimate == pytest.approx(estimated_auroc(SPEC.calibration.apply(probabilities)))
    # Taken at their word the raw probabilities promise far more separation.
    assert estimated_auroc(probabilities) > estimate + 0.1


def test_without_both_classes_expected_there_is_no_estimate():
    window = EstimateWindow(SPEC.model_copy(update={"calibration": None}), size=20, min_rows=5)
    for _ in range(20):
        window.add([0.0])

    assert window.count == 20
    assert window.auroc() is None
