"""The /predict/ hot path: raw body -> records -> float64 matrix -> booster -> JSON bytes.

No pydantic or pandas per request: orjson parses, the spec's RecordEncoder validates and
encodes, and the answer is written with orjson. `refusal` and `serve` are what the route
(fast_path.py) asks of it: whether the caller may predict, then the whole request once its
body is read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import numpy as np
import orjson
from proyecto4_common.feature_spec import RecordError
from proyecto4_common.names import DECISION_THRESHOLD, PREDICT_PATH
from proyecto4_common.prediction_key import KEY_FIELD, PredictionKey, PredictionKeyError, parse_key

from inference_api.model_store import LoadedModel
from inference_api.services import Services, no_model_detail

log = logging.getLogger(__name__)

JSON_TYPES = {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}


class InvalidInput(Exception):
    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


def check_content_type(content_type: str | None) -> None:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise InvalidInput(
            415, f"Content-Type must be application/json, got {content_type or 'none'!r}"
        )


def parse_records(body: bytes, max_records: int) -> tuple[list, bool]:
    """The records of the body and whether it was a single object."""
    if not body:
        raise InvalidInput(400, "empty body: send a JSON object or a list of JSON objects")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(400, f"malformed JSON: {exc}") from None
    if isinstance(payload, dict):
        return [payload], True
    if isinstance(payload, list):
        if not payload:
            raise InvalidInput(422, "empty list: send at least one record")
        if len(payload) > max_records:
            raise InvalidInput(
                422, f"too many records: {len(payload)} in one request, at most {max_records}"
            )
        return payload, False
    kind = JSON_TYPES.get(type(payload), "number")
    raise InvalidInput(422, f"expected a JSON object or a list of objects, got a {kind}")


# Not None: `"key": null` is a malformed key, not a missing one.
_ABSENT = object()


def take_keys(records: list, single: bool) -> tuple[list | None, list[PredictionKey] | None]:
    """Removes each record's key (not a feature) before encoding.

    Returns the keys as sent (echoed) and as parsed (logged), or (None, None) when no record
    has one, so requests without keys cost one dict lookup per record.
    """
    sent = [r.pop(KEY_FIELD, _ABSENT) if type(r) is dict else _ABSENT for r in records]
    if all(k is _ABSENT for k in sent):
        return None, None
    parsed = []
    for position, key in enumerate(sent):
        try:
            parsed.append(None if key is _ABSENT else parse_key(key))
        except PredictionKeyError as exc:
            where = "" if single else f"record {position}: "
            raise InvalidInput(422, f"{where}{exc}") from None
    return [None if k is _ABSENT else k for k in sent], parsed


def encode(model: LoadedModel, records: list, single: bool) -> np.ndarray:
    try:
        if single:
            matrix = np.empty((1, len(model.feature_names)), dtype=np.float64)
            model.encoder.encode_into(records[0], matrix[0])
            return matrix
        return model.encoder.encode_many(records)
    except RecordError as exc:
        raise InvalidInput(422, str(exc)) from None


def probabilities(model: LoadedModel, matrix: np.ndarray) -> list[float]:
    if len(matrix) == 1:
        return [model.predict_one(matrix[0])]
    # One thread: OpenMP wake-ups cost more than these trees, and the API scales by
    # workers and replicas instead.
    return model.booster.predict(matrix, num_threads=1).tolist()


def contributions(model: LoadedModel, matrix: np.ndarray) -> list[dict[str, float]]:
    values = model.booster.predict(matrix, pred_contrib=True, num_threads=1)
    keys = [*model.feature_names, "bias"]
    return [dict(zip(keys, row, strict=False)) for row in values.tolist()]


def predict(
    model: LoadedModel, matrix: np.ndarray, with_contributions: bool
) -> tuple[list[float], list[int], list[dict[str, float]] | None]:
    """Probabilities, classes, and contributions when asked; safe in a worker thread.

    Plain lists: numpy's per-call overhead outweighs the work for one row.
    """
    probs = probabilities(model, matrix)
    classes = [1 if p >= DECISION_THRESHOLD else 0 for p in probs]
    return probs, classes, contributions(model, matrix) if with_contributions else None


def answer(
    model: LoadedModel,
    probs: list[float],
    classes: list[int],
    single: bool,
    contribs: list[dict[str, float]] | None,
    keys: list | None = None,
) -> bytes:
    categories = model.categories
    items = [
        {"probability": p, "prediction": c, "category": categories[c]}
        for p, c in zip(probs, classes, strict=False)
    ]
    if contribs is not None:
        for item, contrib in zip(items, contribs, strict=False):
            item["contributions"] = contrib
    if keys is not None:
        for item, key in zip(items, keys, strict=False):
            if key is not None:
                item[KEY_FIELD] = key
    body = items[0] if single else {"predictions": items}
    body["model_name"] = model.name
    body["model_version"] = model.version
    return orjson.dumps(body)


@dataclass(slots=True)
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] | None = None


def error_reply(status: int, detail: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, orjson.dumps({"detail": detail}), headers)


def refusal(services: Services, authorization: str | None) -> Reply | None:
    """The answer to a caller without a valid API key (counted); None when it may go on,
    which is always while API keys are off."""
    if services.guard.api_keys is None:
        return None
    refused = services.guard.api_key_refusal(PREDICT_PATH, authorization)
    if refused is None:
        return None
    return error_reply(refused.status_code, refused.detail, refused.headers)


async def serve(
    services: Services, body: bytes, content_type: str | None, with_contributions: bool
) -> Reply:
    """One admitted POST /predict/ with its body: every answer, error or not, and what it
    counts and logs."""
    started = time.perf_counter()
    model = services.holder.current
    if model is None:
        return error_reply(503, no_model_detail(services.holder))
    metrics = services.metrics
    try:
        check_content_type(content_type)
        records, single = parse_records(body, services.settings.max_records)
        sent_keys, keys = take_keys(records, single)
        matrix = encode(model, records, single)
    except InvalidInput as exc:
        metrics.invalid.inc()
        metrics.latency.observe(time.perf_counter() - started)
        return error_reply(exc.status, exc.detail)
    try:
        if single:
            probs, classes, contribs = predict(model, matrix, with_contributions)
        else:
            # LightGBM lets go of the GIL: meanwhile the event loop parses the next request.
            probs, classes, contribs = await asyncio.to_thread(
                predict, model, matrix, with_contributions
            )
        answer_body = answer(model, probs, classes, single, contribs, sent_keys)
    except Exception as exc:  # failing on valid input is our fault: 500, counted
        log.exception("prediction failed")
        metrics.error.inc()
        return error_reply(500, f"prediction failed: {type(exc).__name__}: {exc}")
    delayed = sum(classes)
    if delayed:
        metrics.predictions[1].inc(delayed)
    if delayed < len(classes):
        metrics.predictions[0].inc(len(classes) - delayed)
    model.drift.add(matrix)
    model.estimate.add(probs)
    predicted_ms = (time.perf_counter() - started) * 1000
    await services.log_writer.submit(
        records, classes, probs, model.name, model.version, predicted_ms, keys
    )
    metrics.success.inc()
    # Includes any wait for room in the log buffer: the latency clients saw.
    metrics.latency.observe(time.perf_counter() - started)
    return Reply(200, answer_body)
