"""The API's endpoints."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from inference_api import predict as hot
from inference_api.auth import require_admin
from inference_api.model_store import LoadedModel, ModelLoadError
from inference_api.openapi import LOAD_MODEL_PATH, PREDICT_PATH
from inference_api.schemas import (
    ErrorDetail,
    Health,
    LoadedModelInfo,
    LoadModelRequest,
    ModelInfo,
    PredictResponse,
    Ready,
)
from inference_api.services import Services, get_model, get_services

log = logging.getLogger(__name__)
router = APIRouter()


def _errors(*statuses: int) -> dict:
    return {status: {"model": ErrorDetail} for status in statuses}


def _error(status: int, detail: str) -> Response:
    return JSONResponse({"detail": detail}, status_code=status)


@router.post(
    PREDICT_PATH,
    response_model=None,
    responses={200: {"model": PredictResponse}, **_errors(400, 401, 403, 415, 422, 503)},
    summary="Predict whether flights arrive delayed",
)
async def predict(request: Request, contributions: bool = False) -> Response:
    started = time.perf_counter()
    services: Services = request.app.state.services
    if services.guard.api_keys is not None:
        refused = services.guard.api_key_refusal(PREDICT_PATH, request.headers.get("authorization"))
        if refused is not None:
            return JSONResponse(
                {"detail": refused.detail}, status_code=refused.status_code, headers=refused.headers
            )
    # Called, not injected: FastAPI's dependency solving costs a tenth of a one-row request.
    model = await get_model(request)
    metrics = services.metrics
    try:
        hot.check_content_type(request.headers.get("content-type"))
        records, single = hot.parse_records(await request.body(), services.settings.max_records)
        sent_keys, keys = hot.take_keys(records, single)
        matrix = hot.encode(model, records, single)
    except hot.InvalidInput as exc:
        metrics.invalid.inc()
        metrics.latency.observe(time.perf_counter() - started)
        return _error(exc.status, exc.detail)
    try:
        if single:
            probs, classes, contribs = hot.predict(model, matrix, contributions)
        else:
            # LightGBM lets go of the GIL: meanwhile the event loop parses the next request.
            probs, classes, contribs = await asyncio.to_thread(
                hot.predict, model, matrix, contributions
            )
        body = hot.answer(model, probs, classes, single, contribs, sent_keys)
    except Exception as exc:  # failing on valid input is our fault: 500, counted
        log.exception("prediction failed")
        metrics.error.inc()
        return _error(500, f"prediction failed: {type(exc).__name__}: {exc}")
    delayed = sum(classes)
    if delayed:
        metrics.predictions[1].inc(delayed)
    if delayed < len(classes):
        metrics.predictions[0].inc(len(classes) - delayed)
    model.drift.add(matrix)
    predicted_ms = (time.perf_counter() - started) * 1000
    await services.log_writer.submit(
        records, classes, probs, model.name, model.version, predicted_ms, keys
    )
    metrics.success.inc()
    # Includes any wait for room in the log buffer: the latency clients saw.
    metrics.latency.observe(time.perf_counter() - started)
    return Response(body, media_type="application/json")


@router.post(
    LOAD_MODEL_PATH,
    response_model=LoadedModelInfo,
    responses=_errors(400, 401, 403, 404, 422, 503),
    summary="Load the alias's version (or the version given) and swap it in",
    description="Needs the admin token: `Authorization: Bearer <admin token>`.",
    dependencies=[Depends(require_admin)],
)
async def load_model(
    services: Annotated[Services, Depends(get_services)],
    body: Annotated[LoadModelRequest | None, Body()] = None,
):
    try:
        model = await services.holder.load(body.version if body else None)
    except ModelLoadError as exc:
        return _error(exc.status, str(exc))
    return model.describe()


@router.get("/health", response_model=Health, summary="Liveness")
async def health():
    return {"status": "ok"}


@router.get("/ready", response_model=Ready, responses=_errors(503), summary="Readiness")
async def ready(model: Annotated[LoadedModel, Depends(get_model)]):
    return {"status": "ready", "model_version": model.version}


@router.get("/model", response_model=ModelInfo, responses=_errors(503))
async def model_info(
    model: Annotated[LoadedModel, Depends(get_model)],
    services: Annotated[Services, Depends(get_services)],
):
    return {
        **model.describe(),
        "run_id": model.run_id,
        "source": model.source,
        "last_load_error": services.holder.last_error,
        "feature_spec": model.spec.model_dump(mode="json"),
    }


@router.get("/metrics", response_class=Response, summary="Prometheus metrics")
async def metrics(services: Annotated[Services, Depends(get_services)]):
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)
