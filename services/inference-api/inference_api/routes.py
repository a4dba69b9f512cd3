"""The API's endpoints but POST /predict/, a raw ASGI route of its own (fast_path.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from proyecto4_common.names import LOAD_MODEL_PATH

from inference_api.auth import require_admin
from inference_api.model_store import LoadedModel, ModelLoadError
from inference_api.schemas import (
    ErrorDetail,
    Health,
    LoadedModelInfo,
    LoadModelRequest,
    ModelInfo,
    Ready,
)
from inference_api.services import Services, get_model, get_services

router = APIRouter()


def _errors(*statuses: int) -> dict:
    return {status: {"model": ErrorDetail} for status in statuses}


def _error(status: int, detail: str) -> Response:
    return JSONResponse({"detail": detail}, status_code=status)


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
