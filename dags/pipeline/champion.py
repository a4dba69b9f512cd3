"""register_champion_model: the better candidate takes `production` only if it beats the
model in production on the promotion metric beyond the noise. Every decision is recorded
twice: as tags on the model version (visible in MLflow) and as a row of the promotion
ledger (data DB).

Both models are scored on the same rows, the candidate's test days after production's data
(`versus_production`, run by the training task that holds the candidate): neither trained
or tuned on them. One day's AUROC moves by about 0.05 by sampling alone, so a higher figure
is not a win: the difference's 95 % paired-bootstrap interval must lie above
`promotion_min_difference`.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from mlflow import MlflowClient
from proyecto4_common.names import (
    DECISION_THRESHOLD,
    MODEL_NAME,
    PIPELINE_KEPT_OUT_PREFIX,
    PIPELINE_PROMOTED_PREFIX,
    PRODUCTION_ALIAS,
    RUN_METRICS,
    TAG_DECIDED_AT,
    TAG_PREVIOUS_PRODUCTION,
    TAG_PROMOTION,
)
from proyecto4_common.tables import promotion_ledger, upgrade

from pipeline.db import make_engine
from pipeline.evaluation import probabilities, score
from pipeline.features import FEATURES, FLIGHT_DATE, encode
from pipeline.settings import PipelineSettings
from pipeline.spec import categories_of
from pipeline.tracking import production_version, use_tracking

log = logging.getLogger(__name__)

# Fewer new rows than this make the comparison noise: the logged metrics decide instead.
MIN_COMPARISON_ROWS = 200
CONFIDENCE = 0.95


def resampled_scores(
    kind: str, y: np.ndarray, probability: np.ndarray, counts: np.ndarray
) -> np.ndarray:
    """`kind` (accuracy or auroc) of every bootstrap resample at once, each resample given
    as how many times it drew each row (a row of `counts`). AUROC is Mann-Whitney's, ties
    counted half, as roc_auc_score with these counts as sample weights: one sort of the
    rows serves every resample, instead of one roc_auc_score per resample (seconds of a
    retraining where the bootstrap took half a minute)."""
    counts = np.atleast_2d(counts).astype(float)
    if kind == "accuracy":
        right = ((probability >= DECISION_THRESHOLD) == y).astype(float)
        return counts @ right / counts.sum(axis=1)
    order = np.argsort(probability, kind="stable")
    sorted_p, positive = probability[order], y[order] == 1
    # Rows of equal probability form one group: a negative in it counts half.
    starts = np.flatnonzero(np.r_[True, sorted_p[1:] != sorted_p[:-1]])
    weights = counts[:, order]
    pos = np.add.reduceat(np.where(positive, weights, 0.0), starts, axis=1)
    neg = np.add.reduceat(np.where(positive, 0.0, weights), starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    pairs = pos.sum(axis=1) * neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pairs > 0, (pos * (below + neg / 2)).sum(axis=1) / pairs, np.nan)


def compare(
    y: np.ndarray,
    candidate: np.ndarray,
    production: np.ndarray,
    resamples: int,
    seed: int,
) -> dict[str, dict]:
    """Per score (accuracy, auroc): both models' values on the same rows, the candidate's
    minus production's, and the 95 % interval of that difference from a paired bootstrap
    (the rows resampled together, so what both models find hard cancels out)."""
    from scipy.stats import bootstrap

    rows = len(y)
    result = {}
    for kind in ("accuracy", "auroc"):

        def difference(index, axis=-1, kind=kind):
            # scipy hands a batch of resamples of row numbers; as counts per row they
            # score every resample in one pass.
            index = np.atleast_2d(index.astype(int))
            batch = len(index)
            counts = np.bincount(
                (index + rows * np.arange(batch)[:, None]).ravel(), minlength=batch * rows
            ).reshape(batch, rows)
            return resampled_scores(kind, y, candidate, counts) - resampled_scores(
                kind, y, production, counts
            )

        mine, theirs = score(kind, y, candidate), score(kind, y, production)
        interval = bootstrap(
            (np.arange(rows),),
            difference,
            vectorized=True,
            batch=100,
            n_resamples=resamples,
            confidence_level=CONFIDENCE,
            method="percentile",
            rng=np.random.default_rng(seed),
        ).confidence_interval
        result[kind] = {
            "candidate": mine,
            "production": theirs,
            "difference": mine - theirs,
            "low": float(interval.low),
            "high": float(interval.high),
        }
    return result


def versus_production(client, splits, booster, settings: PipelineSettings) -> dict | None:
    """Candidate and production compared on this run's test rows of days after production's
    data (its logged `data_until`): rows neither trained on, nor tuned on. None (the logged
    metrics decide) without a production model, its `data_until`, enough new rows of both
    classes, or for a model logged another way."""
    from mlflow.artifacts import download_artifacts
    from proyecto4_common.registered_model import (
        BOOSTER_ARTIFACT,
        SPEC_ARTIFACT,
        load_parts,
        model_artifacts,
    )

    version = production_version(client)
    if version is None or not splits.raw:
        return None
    since = client.get_run(version.run_id).data.params.get("data_until")
    if not since:
        return None
    rows = splits.raw["test"]
    newer = (pd.to_datetime(rows[FLIGHT_DATE]) > pd.Timestamp(since)).to_numpy()
    y = splits.y["test"][newer]
    if len(y) < MIN_COMPARISON_ROWS or len(np.unique(y)) < 2:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = download_artifacts(
            artifact_uri=client.get_model_version_download_uri(MODEL_NAME, version.version),
            dst_path=tmp,
        )
        files = model_artifacts(model_dir)
        if BOOSTER_ARTIFACT not in files:
            return None
        production, spec = load_parts(files[BOOSTER_ARTIFACT], files[SPEC_ARTIFACT])
    theirs = probabilities(production, encode(rows[newer][list(FEATURES)], categories_of(spec)))
    mine = probabilities(booster, splits.X["test"][newer])
    return {
        "version": str(version.version),
        "since": since,
        "rows": len(y),
        "comparisons": compare(
            y, mine, theirs, settings.promotion_bootstrap_resamples, settings.pipeline_seed
        ),
    }


def current_production(client: MlflowClient) -> tuple[str, dict[str, float]] | None:
    version = production_version(client)
    if version is None:
        return None
    return str(version.version), client.get_run(version.run_id).data.metrics


def _kind(metric: str) -> str:
    """accuracy or auroc: what a run metric (val_/test_) measures."""
    return metric.split("_", 1)[1]


def decide(
    candidates: list[dict],
    production: tuple[str, dict[str, float]] | None,
    metric: str,
    min_difference: float = 0.0,
) -> dict:
    """Pure decision: which candidate wins, and does it replace production?"""
    if metric not in RUN_METRICS:
        raise ValueError(f"promotion metric must be one of {RUN_METRICS}, not {metric!r}")
    if not candidates:
        raise ValueError("no candidate model to consider")
    champion = max(candidates, key=lambda c: c["metrics"][metric])
    versus = champion.get("versus_production") or {}
    same_rows = production is not None and versus.get("version") == production[0]
    compared = versus["comparisons"][_kind(metric)] if same_rows else {}
    value = compared["candidate"] if same_rows else champion["metrics"][metric]
    decision = {
        "candidate_version": champion["version"],
        "candidate_value": value,
        "metric": metric,
        "previous_version": production[0] if production else None,
        "previous_value": (
            compared["production"]
            if same_rows
            else production[1].get(metric)
            if production
            else None
        ),
        "difference": compared.get("difference"),
        "difference_low": compared.get("low"),
        "difference_high": compared.get("high"),
        "comparison_rows": versus["rows"] if same_rows else None,
    }
    if production is None:
        return {
            **decision,
            "promoted": True,
            "reason": f"no production model yet; {metric}={value:.4f}",
        }
    if production[0] == champion["version"]:
        return {**decision, "promoted": False, "reason": "candidate is already in production"}
    previous = decision["previous_value"]
    if same_rows:
        name = _kind(metric)
        shown = (
            f"{name} {value:.4f} vs production v{production[0]} {previous:.4f} on the "
            f"{versus['rows']} test rows after {versus['since']}, which neither trained on: "
            f"difference {compared['difference']:+.4f}, 95 % interval "
            f"[{compared['low']:+.4f}, {compared['high']:+.4f}]"
        )
        if compared["low"] > min_difference:
            return {**decision, "promoted": True, "reason": f"{shown}, above {min_difference:+g}"}
        return {
            **decision,
            "promoted": False,
            "reason": f"{shown}: not better beyond the noise (needs a lower end above "
            f"{min_difference:+g})",
        }
    # No rows neither trained on (production without data_until, too few new rows): each
    # model's logged metric, from the split it was trained on.
    if previous is None or value > previous:
        shown = "none" if previous is None else f"{previous:.4f}"
        return {
            **decision,
            "promoted": True,
            "reason": f"{metric} {value:.4f} beats production v{production[0]} "
            f"({shown}, as logged at its training: no rows neither trained on to compare)",
        }
    return {
        **decision,
        "promoted": False,
        "reason": (
            f"{metric} {value:.4f} does not beat production v{production[0]} "
            f"({previous:.4f}, as logged at its training)"
        ),
    }


def _trigger_columns(trigger: dict | None, previous_version: str | None) -> dict:
    """The retraining trigger's reason and the replaced model's live quality, for the ledger."""
    if trigger is None:
        return {}
    live = trigger.get("live") or {}
    same = previous_version is not None and live.get("version") == previous_version
    return {
        "trigger": trigger["reason"],
        "trigger_kind": trigger["kind"],
        "previous_live_auroc": live.get("auroc") if same else None,
        "previous_live_count": live.get("count") if same else None,
    }


def register_champion(
    settings: PipelineSettings, candidates: list[dict], trigger: dict | None = None
) -> dict:
    client = use_tracking(settings)
    decision = decide(
        candidates,
        current_production(client),
        settings.promotion_metric,
        settings.promotion_min_difference,
    )
    now = datetime.now(UTC)
    winner = decision["candidate_version"]
    if decision["promoted"]:
        from pipeline.training import log_forward_evaluation

        # Its backtest band must be logged before it serves: decay is judged against it.
        champion = next(c for c in candidates if c["version"] == winner)
        if champion.get("params") is not None:
            log_forward_evaluation(settings, client, champion)
        else:
            # A version registered outside train_and_log: nothing to refit it from.
            log.warning("v%s carries no training parameters: promoted without a backtest", winner)
        client.set_registered_model_alias(MODEL_NAME, PRODUCTION_ALIAS, winner)
        if decision["previous_version"]:
            # The chain `helm proyecto4 rollback` follows back.
            client.set_model_version_tag(
                MODEL_NAME, winner, TAG_PREVIOUS_PRODUCTION, decision["previous_version"]
            )
    verdict = PIPELINE_PROMOTED_PREFIX if decision["promoted"] else PIPELINE_KEPT_OUT_PREFIX
    client.set_model_version_tag(
        MODEL_NAME, winner, TAG_PROMOTION, f"{verdict} {decision['reason']}"
    )
    client.set_model_version_tag(MODEL_NAME, winner, TAG_DECIDED_AT, now.isoformat())
    for other in candidates:
        if other["version"] != winner:
            client.set_model_version_tag(
                MODEL_NAME,
                other["version"],
                TAG_PROMOTION,
                f"{PIPELINE_KEPT_OUT_PREFIX} lost to v{winner} on {decision['metric']}",
            )
    engine = make_engine(settings.data_db_url)
    with engine.begin() as conn:
        upgrade(conn, promotion_ledger)
        conn.execute(
            promotion_ledger.insert().values(
                decided_at=now,
                model_name=MODEL_NAME,
                **decision,
                **_trigger_columns(trigger, decision["previous_version"]),
            )
        )
    log.info("promotion decision: %s", decision)
    return decision
