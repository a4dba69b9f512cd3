"""App factory: `uvicorn inference_api.app:create_app --factory`.

The lifespan builds the model holder, metrics and inference_log writer; the first model
load and the alias watcher run in the background so /health answers from the start and
/ready turns 200 once a model serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from inference_api.auth import Guard
from inference_api.fast_path import predict_route
from inference_api.inference_log import InferenceLogWriter
from inference_api.metrics import ApiMetrics
from inference_api.model_store import ModelHolder, ModelLoadError, ModelStore
from inference_api.openapi import build_openapi
from inference_api.quality import QualityReader
from inference_api.routes import router
from inference_api.services import Services
from inference_api.settings import ApiSettings


def _log_to_stderr() -> None:
    # uvicorn configures only its own loggers; without this our INFO lines (model loads,
    # inference_log recoveries) would be lost unless a log config says otherwise.
    ours = logging.getLogger("inference_api")
    if not ours.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
        ours.addHandler(handler)
        ours.setLevel(logging.INFO)


async def _keep_loaded(holder: ModelHolder, interval_s: float) -> None:
    # A failure is logged and kept in last_error; /ready says why.
    with contextlib.suppress(ModelLoadError):
        await holder.load(None)
    if interval_s > 0:
        await holder.watch(interval_s)


@asynccontextmanager
async def lifespan(app: FastAPI):
    settings: ApiSettings = app.state.settings
    _log_to_stderr()
    # The callbacks read `holder` and `writer`, built just below.
    metrics = ApiMetrics(
        psi=lambda: holder.current.drift.psi() if holder.current else {},
        buffered=lambda: writer.buffered,
        estimate=lambda: (
            (holder.current.version, holder.current.estimate.auroc()) if holder.current else None
        ),
    )
    # First: bad credentials stop the start before any thread runs.
    guard = Guard(settings, metrics.auth_refusals)
    writer = InferenceLogWriter(
        settings.data_db_url,
        capacity=settings.log_buffer_rows,
        batch_rows=settings.log_batch_rows,
        flush_interval_s=settings.log_flush_interval_s,
        retry_interval_s=settings.log_retry_interval_s,
        max_wait_s=settings.log_max_wait_s,
        on_written=metrics.log_written.inc,
        on_dropped=metrics.log_dropped.inc,
        on_waited=metrics.log_waited.inc,
    )

    def swapped_in(model) -> None:
        metrics.serving(model.version, model.categories)
        # Imports and models live long: keep them out of the garbage collector's full
        # passes, which otherwise stall requests for tens of milliseconds.
        gc.freeze()

    holder = ModelHolder(ModelStore(settings), on_swap=swapped_in)
    writer.start()
    app.state.services = Services(settings, holder, metrics, writer, guard)
    loader = asyncio.create_task(_keep_loaded(holder, settings.watch_interval_s))
    background = [loader]
    quality = QualityReader(settings.data_db_url)
    if settings.quality_refresh_s > 0:
        metrics.registry.register(quality)
        background.append(asyncio.create_task(quality.keep_fresh(settings.quality_refresh_s)))
    try:
        yield
    finally:
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        quality.close()
        await asyncio.to_thread(writer.stop, settings.log_drain_timeout_s)


async def _server_error(request: Request, exc: Exception) -> JSONResponse:
    # ServerErrorMiddleware's answer to an unexpected exception on any route: JSON like every
    # other error (the server still logs the traceback, since the middleware re-raises).
    return JSONResponse({"detail": "Internal Server Error"}, status_code=500)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
    )
    return JSONResponse({"detail": problems}, status_code=422)


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    app = FastAPI(
        title="proyecto4 inference API",
        version="1",
        description="Predicts whether a flight arrives more than 15 minutes late.",
        lifespan=lifespan,
    )
    app.state.settings = settings or ApiSettings()
    # POST /predict/ first: the busiest route is matched before any other.
    app.router.routes.insert(0, predict_route())
    app.include_router(router)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _server_error)

    documents: dict[str | None, dict] = {}

    def openapi() -> dict:
        services = getattr(app.state, "services", None)
        model = services.holder.current if services else None
        key = model.version if model else None
        if key not in documents:
            spec = model.spec if model else None
            documents[key] = build_openapi(
                app, spec, app.state.settings.max_records, bool(app.state.settings.api_key_list)
            )
        return documents[key]

    app.openapi = openapi
    return app
