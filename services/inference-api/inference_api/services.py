"""What the app's lifespan builds and its endpoints reach through dependencies."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException, Request

from inference_api.auth import Guard
from inference_api.inference_log import InferenceLogWriter
from inference_api.metrics import ApiMetrics
from inference_api.model_store import LoadedModel, ModelHolder
from inference_api.settings import ApiSettings


@dataclass
class Services:
    settings: ApiSettings
    holder: ModelHolder
    metrics: ApiMetrics
    log_writer: InferenceLogWriter
    guard: Guard


# Dependencies are coroutines: FastAPI would run plain functions in its thread pool, a
# thread hop that costs more than the whole one-row prediction.
async def get_services(request: Request) -> Services:
    return request.app.state.services


def no_model_detail(holder: ModelHolder) -> str:
    reason = holder.last_error or "the first load is still running"
    return f"no model loaded yet: {reason}"


async def get_model(request: Request) -> LoadedModel:
    holder = request.app.state.services.holder
    model = holder.current
    if model is None:
        raise HTTPException(503, no_model_detail(holder))
    return model
