"""The feature spec of the model the API serves, read once from its `GET /model`."""

from __future__ import annotations

import time

import requests
from proyecto4_common.feature_spec import FeatureSpec


class SpecUnavailable(RuntimeError):
    """The API did not describe a loaded model in time."""


def fetch_feature_spec(host: str, wait_s: float = 60.0, poll_s: float = 1.0) -> FeatureSpec:
    """Waits up to `wait_s` for the API to serve a model (a post-deploy gate may start
    before the API is ready), then returns the loaded model's spec."""
    url = host.rstrip("/") + "/model"
    deadline = time.monotonic() + wait_s
    while True:
        try:
            response = requests.get(url, timeout=10)
            if response.status_code == 200:
                return FeatureSpec.model_validate(response.json()["feature_spec"])
            problem = f"GET {url} answered {response.status_code}: {response.text[:200]}"
        except requests.RequestException as exc:
            problem = f"GET {url} failed: {exc}"
        if time.monotonic() >= deadline:
            raise SpecUnavailable(problem)
        time.sleep(poll_s)
