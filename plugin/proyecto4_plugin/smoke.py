"""helm proyecto4 smoke: one prediction end to end, then the request counter is exported."""

from __future__ import annotations

from proyecto4_plugin.errors import PluginError
from proyecto4_plugin.inference_api import InferenceApi, metric_total, served_version
from proyecto4_plugin.names import CATEGORIES, PREDICT_REQUESTS_TOTAL


def feature_spec(model_info: dict) -> dict:
    spec = model_info.get("feature_spec") or model_info.get("spec")
    if not isinstance(spec, dict) or not spec.get("features"):
        raise PluginError("the API's GET /model answer carries no feature spec")
    return spec


def sample_record(spec: dict) -> dict:
    """A valid record: the first category of each categorical, the middle of each range."""
    record = {}
    for feature in spec["features"]:
        if feature.get("kind") == "categorical":
            record[feature["name"]] = feature["categories"][0]
        else:
            middle = (float(feature["min"]) + float(feature["max"])) / 2
            record[feature["name"]] = round(middle) if feature.get("kind") == "integer" else middle
    return record


def check_prediction(answer: dict, version: str | None) -> None:
    probability, prediction = answer.get("probability"), answer.get("prediction")
    if not isinstance(probability, (int, float)) or not 0.0 <= probability <= 1.0:
        raise PluginError(f"prediction has no probability in [0, 1]: {answer}")
    if prediction not in CATEGORIES or answer.get("category") != CATEGORIES[prediction]:
        raise PluginError(f"prediction's class and category disagree: {answer}")
    if version is not None and str(answer.get("model_version")) != version:
        raise PluginError(
            f"prediction came from v{answer.get('model_version')}, GET /model says v{version}"
        )


def run(api: InferenceApi, *, out) -> int:
    info = api.model()
    version = served_version(info)
    record = sample_record(feature_spec(info))
    answer = api.predict(record)
    check_prediction(answer, version)
    served = metric_total(api.metrics(), PREDICT_REQUESTS_TOTAL, outcome="success")
    if not served:
        raise PluginError(
            f'/metrics has no {PREDICT_REQUESTS_TOTAL}{{outcome="success"}} sample after a prediction'
        )
    print(
        f"smoke ok: {info.get('model_name', 'model')} v{version} answered "
        f"{answer['category']!r} (probability {answer['probability']:.3f}) "
        f"for a record of {len(record)} features; "
        f'{PREDICT_REQUESTS_TOTAL}{{outcome="success"}} = {served:g}',
        file=out,
    )
    return 0
