"""Loading a registered model from MLflow and swapping it in without stopping service.

A request reads `ModelHolder.current` once and uses that `LoadedModel` to the end, so a swap
(one reference assignment) never mixes two models in one answer. Loads run in a worker
thread, one at a time; a failed load leaves the serving model in place.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import lightgbm
import mlflow.lightgbm
from mlflow.artifacts import download_artifacts
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from proyecto4_common.feature_spec import FeatureSpec, RecordEncoder
from proyecto4_common.names import FEATURE_SPEC_FILE, PRODUCTION_ALIAS
from proyecto4_common.registered_model import (
    BOOSTER_ARTIFACT,
    SPEC_ARTIFACT,
    load_parts,
    model_artifacts,
)

from inference_api.drift import DriftWindow
from inference_api.estimate import EstimateWindow
from inference_api.settings import ApiSettings
from inference_api.single_row import SingleRowPredictor

log = logging.getLogger(__name__)


class ModelLoadError(Exception):
    """A load that failed; `status` is the HTTP status /load_model/ answers with."""

    status = 503


class ModelNotFound(ModelLoadError):
    status = 404


class WaitingForFirstModel(ModelNotFound):
    """The alias points at nothing yet: a fresh platform whose first pipeline run has not
    promoted a model. Not a fault, and /ready says so."""


class ModelUnusable(ModelLoadError):
    """The version exists but cannot serve (its spec and booster disagree, no spec...)."""

    status = 422


@dataclass
class LoadedModel:
    name: str
    version: str
    run_id: str
    source: str  # "alias production" or "version 3": what was asked for
    booster: lightgbm.Booster
    spec: FeatureSpec
    drift: DriftWindow
    estimate: EstimateWindow
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        self.encoder = RecordEncoder(self.spec)
        self.predict_one = SingleRowPredictor(self.booster)
        self.feature_names = self.spec.names
        self.categories = (self.spec.category(0), self.spec.category(1))

    def describe(self) -> dict:
        return {
            "model_name": self.name,
            "model_version": self.version,
            "loaded_at": self.loaded_at.isoformat(),
        }


def _classify(exc: Exception, what: str) -> ModelLoadError:
    if isinstance(exc, ModelLoadError):
        return exc
    if isinstance(exc, MlflowException):
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return ModelNotFound(f"{what} not found in MLflow: {exc.message}")
        if exc.error_code == "INVALID_PARAMETER_VALUE" and "not found" in exc.message:
            return ModelNotFound(f"{what} not found in MLflow: {exc.message}")
        if exc.get_http_status_code() < 500 and exc.error_code != "INTERNAL_ERROR":
            return ModelUnusable(f"{what}: MLflow refused the request: {exc.message}")
    return ModelLoadError(f"{what}: MLflow unreachable or failing: {type(exc).__name__}: {exc}")


def _check_fits(booster: lightgbm.Booster, spec: FeatureSpec, what: str) -> None:
    names = booster.feature_name()
    if booster.num_feature() != len(spec.features):
        raise ModelUnusable(
            f"{what}: the booster has {booster.num_feature()} features, "
            f"its {FEATURE_SPEC_FILE} {len(spec.features)}"
        )
    # Boosters trained from a bare matrix name their columns Column_0..; only real names count.
    if not all(n.startswith("Column_") for n in names) and names != spec.names:
        raise ModelUnusable(f"{what}: the booster's features {names} differ from the spec's")


class ModelStore:
    """Resolves and loads versions of one registered model."""

    def __init__(self, settings: ApiSettings):
        self.settings = settings
        self.uri = settings.mlflow_tracking_uri
        self.client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)

    def resolve(self, version: str | None) -> tuple[str, str]:
        """The version number and run id of `version`, or of the alias when None."""
        name, alias = self.settings.model_name, PRODUCTION_ALIAS
        what = f"model {name!r} " + (
            f"alias {alias!r}" if version is None else f"version {version}"
        )
        try:
            if version is None:
                mv = self.client.get_model_version_by_alias(name, alias)
            else:
                mv = self.client.get_model_version(name, version)
        except Exception as exc:
            error = _classify(exc, what)
            if version is None and isinstance(error, ModelNotFound):
                raise WaitingForFirstModel(
                    f"waiting for the first model: {error} (the pipeline's first run trains and "
                    f"promotes one; the API loads it as soon as {alias!r} points at it)"
                ) from exc
            raise error from exc
        return str(mv.version), mv.run_id

    def source(self, version: str | None) -> str:
        return f"alias {PRODUCTION_ALIAS}" if version is None else f"version {version}"

    def load(self, number: str, run_id: str, source: str) -> LoadedModel:
        """Downloads and checks version `number` (resolved by `resolve`)."""
        started = time.perf_counter()
        name = self.settings.model_name
        what = f"model {name!r} version {number}"
        try:
            with tempfile.TemporaryDirectory(prefix="inference-api-") as tmp:
                # By version number, not alias: the alias may move while we download.
                # (A models:/ URI would be resolved with the global registry, not ours.)
                model_dir = download_artifacts(
                    artifact_uri=self.client.get_model_version_download_uri(name, number),
                    dst_path=str(Path(tmp) / "model"),
                    tracking_uri=self.uri,
                    registry_uri=self.uri,
                )
                artifacts = model_artifacts(model_dir)
                if BOOSTER_ARTIFACT in artifacts:
                    # The pyfunc's own booster and spec, read directly: no pandas per request.
                    booster, spec = load_parts(
                        artifacts[BOOSTER_ARTIFACT], artifacts[SPEC_ARTIFACT]
                    )
                else:
                    # A version registered before the model became a pyfunc (a bare LightGBM
                    # model, its spec beside it in the run) can still be in production.
                    booster = mlflow.lightgbm.load_model(model_dir)
                    spec = FeatureSpec.load(
                        download_artifacts(
                            run_id=run_id,
                            artifact_path=FEATURE_SPEC_FILE,
                            dst_path=str(Path(tmp) / "spec"),
                            tracking_uri=self.uri,
                            registry_uri=self.uri,
                        )
                    )
        except Exception as exc:
            raise _classify(exc, what) from exc
        if not isinstance(booster, lightgbm.Booster):
            raise ModelUnusable(f"{what} is a {type(booster).__name__}, not a lightgbm.Booster")
        _check_fits(booster, spec, what)
        try:
            loaded = LoadedModel(
                name=name,
                version=number,
                run_id=run_id,
                source=source,
                booster=booster,
                spec=spec,
                drift=DriftWindow(spec, self.settings.drift_window, self.settings.drift_min_rows),
                estimate=EstimateWindow(
                    spec, self.settings.estimation_window, self.settings.estimation_min_rows
                ),
            )
        except Exception as exc:  # whatever the booster or the spec trips on
            raise ModelUnusable(f"{what} cannot serve: {type(exc).__name__}: {exc}") from exc
        log.info("loaded %s (%s) in %.2f s", what, source, time.perf_counter() - started)
        return loaded


class ModelHolder:
    """The model in service, swapped atomically; loads serialised by a lock."""

    def __init__(self, store: ModelStore, on_swap=None):
        self.store = store
        self.current: LoadedModel | None = None
        self.last_error: str | None = None
        self._lock = asyncio.Lock()
        self.on_swap = on_swap

    @property
    def pinned(self) -> bool:
        """True after an explicit version was loaded: the watcher then leaves it alone."""
        return self.current is not None and self.current.source.startswith("version ")

    async def load(self, version: str | None = None) -> LoadedModel:
        async with self._lock:
            current = self.current
            source = self.store.source(version)
            try:
                number, run_id = await asyncio.to_thread(self.store.resolve, version)
                if current is not None and number == current.version:
                    current.source = source  # same booster: only pinning changes
                    self.last_error = None
                    return current
                new = await asyncio.to_thread(self.store.load, number, run_id, source)
            except ModelLoadError as exc:
                self.last_error = str(exc)
                log.warning(
                    "model load failed, keeping %s: %s",
                    current.version if current else "no model",
                    exc,
                )
                raise
            self.current = new
            self.last_error = None
            if self.on_swap is not None:
                self.on_swap(new)
            return new

    async def watch(self, interval_s: float) -> None:
        """Follow the alias: load whatever it points at when it moves."""
        while True:
            await asyncio.sleep(interval_s)
            if self.pinned:
                continue
            try:
                await self.load(None)
            except ModelLoadError:
                pass  # logged and kept in last_error; the old model serves on
            except Exception:  # the watcher must outlive any surprise
                log.exception("alias check failed")
