"""The inference API as the UI sees it: the served model and predictions.

Plain httpx, no Streamlit, so it is testable on its own. Failures become the three
exceptions below, each of which a page turns into a readable message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from proyecto4_common.feature_spec import FeatureSpec
from proyecto4_common.http_auth import bearer
from proyecto4_common.names import LOAD_MODEL_PATH, PREDICT_PATH


class ApiUnavailable(Exception):
    """The API does not answer (down, wrong URL, timeout) or fails with a 5xx."""


class NoModelLoaded(Exception):
    """The API is alive but serves no model."""


class ApiRejected(Exception):
    """The API refused the request (4xx); the message is its `detail`."""


@dataclass(frozen=True)
class ServedModel:
    name: str
    version: str
    run_id: str | None
    spec: FeatureSpec


@dataclass(frozen=True)
class Prediction:
    probability: float
    prediction: int
    category: str
    model_name: str
    model_version: str
    # Feature -> contribution to the log-odds of "delayed"; "bias" is the base value.
    contributions: dict[str, float] = field(default_factory=dict)


class InferenceApi:
    def __init__(self, base_url: str, timeout_s: float, admin_token: str = "", api_key: str = ""):
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self._admin = bearer(admin_token)
        self._key = bearer(api_key)

    def served_model(self) -> ServedModel:
        body = self._call("GET", "/model")
        return ServedModel(
            name=body["model_name"],
            version=str(body["model_version"]),
            run_id=body.get("run_id"),
            spec=FeatureSpec.model_validate(body["feature_spec"]),
        )

    def predict(self, record: dict[str, Any], contributions: bool = True) -> Prediction:
        params = {"contributions": "true"} if contributions else None
        body = self._call("POST", PREDICT_PATH, json=record, params=params, headers=self._key)
        return Prediction(
            probability=float(body["probability"]),
            prediction=int(body["prediction"]),
            category=body["category"],
            model_name=body["model_name"],
            model_version=str(body["model_version"]),
            contributions={k: float(v) for k, v in (body.get("contributions") or {}).items()},
        )

    def load_model(self, version: str | None = None) -> dict[str, Any]:
        return self._call(
            "POST",
            LOAD_MODEL_PATH,
            json={"version": version} if version else None,
            headers=self._admin,
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = httpx.request(method, self.base_url + path, timeout=self.timeout_s, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiUnavailable(f"{type(exc).__name__}: {exc}") from exc
        detail = _detail(response)
        if response.status_code == 503 and path == "/model":
            raise NoModelLoaded(detail)
        if response.status_code >= 500:
            raise ApiUnavailable(f"HTTP {response.status_code}: {detail}")
        if response.status_code >= 400:
            raise ApiRejected(detail)
        return response.json()


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, list):  # FastAPI validation errors: one message per problem
        detail = "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail)
    return str(detail or response.text or response.reason_phrase)
