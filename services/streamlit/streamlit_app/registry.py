"""The MLflow model registry as the UI sees it: versions of `flight-delay` and their artifacts.

No Streamlit here. Every MLflow failure becomes `MlflowUnavailable`, so a page can say
what is wrong instead of showing a stack trace.
"""

from __future__ import annotations

import json
import posixpath
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from proyecto4_common.names import (
    BACKTEST_AUROC_MEAN,
    BACKTEST_AUROC_SD,
    BACKTEST_FILE,
    MODEL_NAME,
    PRODUCTION_ALIAS,
    RANDOM_SPLIT_TEST_AUROC,
    RUN_METRICS,
    TAG_PROMOTION,
    TEST_CALIBRATION_ERROR,
    TEST_CALIBRATION_ERROR_RAW,
)

# What the model history shows of a run: the scores, the forward backtest, the random-split
# AUROC beside the forward one and the calibration error before and after calibration. Runs
# logged before the forward evaluation lack the last five.
SHOWN_METRICS = (
    *RUN_METRICS,
    BACKTEST_AUROC_MEAN,
    BACKTEST_AUROC_SD,
    RANDOM_SPLIT_TEST_AUROC,
    TEST_CALIBRATION_ERROR_RAW,
    TEST_CALIBRATION_ERROR,
)


class MlflowUnavailable(Exception):
    """MLflow cannot be reached or refused the request."""


class ArtifactUnreadable(Exception):
    """A run artifact is there but not in the shape its writer promises."""


@dataclass(frozen=True)
class VersionInfo:
    version: int
    aliases: tuple[str, ...]
    created_at: datetime
    run_id: str
    objective: str | None
    promotion: str | None
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def in_production(self) -> bool:
        return PRODUCTION_ALIAS in self.aliases


class Registry:
    def __init__(self, tracking_uri: str, timeout_s: float):
        self.tracking_uri = tracking_uri
        self.timeout_s = timeout_s

    def versions(self) -> list[VersionInfo]:
        """Every version of the model, newest first; empty when none is registered."""
        client = self._client()
        try:
            found = client.search_model_versions(f"name='{MODEL_NAME}'")
            # Version search does not fill aliases on every store; the model's own map does.
            aliases = client.get_registered_model(MODEL_NAME).aliases if found else {}
            infos = [self._info(client, v, aliases) for v in found]
        except MlflowException as exc:
            raise MlflowUnavailable(str(exc)) from exc
        return sorted(infos, key=lambda v: v.version, reverse=True)

    def artifact(self, run_id: str, path: str) -> bytes | None:
        """The bytes of a run artifact, or None when the run has no such file."""
        client = self._client()
        with tempfile.TemporaryDirectory() as folder:
            try:
                listed = client.list_artifacts(run_id, posixpath.dirname(path) or None)
                if path not in {item.path for item in listed}:
                    return None
                local = client.download_artifacts(run_id, path, folder)
            except (MlflowException, OSError) as exc:
                raise MlflowUnavailable(str(exc)) from exc
            return Path(local).read_bytes()

    def backtest(self, run_id: str) -> list[dict] | None:
        """The backtest's folds (start, end, train_rows, rows, auroc), or None when the run
        logged no backtest."""
        raw = self.artifact(run_id, BACKTEST_FILE)
        if raw is None:
            return None
        try:
            return [dict(fold) for fold in json.loads(raw)["folds"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise ArtifactUnreadable(f"{BACKTEST_FILE} of run {run_id}: {exc!r}") from exc

    def _client(self) -> MlflowClient:
        self._probe()
        try:
            return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)
        except (MlflowException, OSError) as exc:
            raise MlflowUnavailable(str(exc)) from exc

    def _probe(self) -> None:
        """Fails fast on an HTTP tracking server that does not answer its health check."""
        if not self.tracking_uri.startswith(("http://", "https://")):
            return
        try:
            httpx.get(self.tracking_uri.rstrip("/") + "/health", timeout=self.timeout_s)
        except httpx.HTTPError as exc:
            raise MlflowUnavailable(f"{type(exc).__name__}: {exc}") from exc

    @staticmethod
    def _info(client: MlflowClient, version, aliases: dict[str, str]) -> VersionInfo:
        run = client.get_run(version.run_id)
        tags = version.tags or {}
        return VersionInfo(
            version=int(version.version),
            aliases=tuple(a for a, v in aliases.items() if str(v) == str(version.version)),
            created_at=datetime.fromtimestamp(version.creation_timestamp / 1000, tz=UTC),
            run_id=version.run_id,
            objective=tags.get("objective") or run.data.tags.get("objective"),
            promotion=tags.get(TAG_PROMOTION),
            metrics={k: v for k, v in run.data.metrics.items() if k in SHOWN_METRICS},
        )


def production(versions: list[VersionInfo]) -> VersionInfo | None:
    return next((v for v in versions if v.in_production), None)


def describe(version: VersionInfo) -> str:
    """How a version reads in a chooser: number, aliases, tuning objective."""
    aliases = f" ({', '.join(version.aliases)})" if version.aliases else ""
    objective = f", tuned for {version.objective}" if version.objective else ""
    return f"v{version.version}{aliases}{objective}"
