"""register_champion_model: the better candidate takes `production` only if it beats the
model in production on the promotion metric. Every decision is recorded twice: as tags on
the model version (visible in MLflow) and as a row of the promotion ledger (data DB)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from mlflow import MlflowClient
from proyecto4_common.names import (
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
from pipeline.settings import PipelineSettings
from pipeline.tracking import production_version, use_tracking

log = logging.getLogger(__name__)


def current_production(client: MlflowClient) -> tuple[str, dict[str, float]] | None:
    version = production_version(client)
    if version is None:
        return None
    return str(version.version), client.get_run(version.run_id).data.metrics


def decide(
    candidates: list[dict], production: tuple[str, dict[str, float]] | None, metric: str
) -> dict:
    """Pure decision: which candidate wins, and does it replace production?"""
    if metric not in RUN_METRICS:
        raise ValueError(f"promotion metric must be one of {RUN_METRICS}, not {metric!r}")
    if not candidates:
        raise ValueError("no candidate model to consider")
    champion = max(candidates, key=lambda c: c["metrics"][metric])
    # Both scored on the rows neither trained on (training.versus_production) when there
    # are enough; else each one's logged metric, from the split it was trained on.
    versus = champion.get("versus_production") or {}
    same_rows = production is not None and versus.get("version") == production[0]
    value = versus["candidate"][metric] if same_rows else champion["metrics"][metric]
    decision = {
        "candidate_version": champion["version"],
        "candidate_value": value,
        "metric": metric,
        "previous_version": production[0] if production else None,
        "previous_value": (
            versus["production"][metric]
            if same_rows
            else production[1].get(metric)
            if production
            else None
        ),
    }
    if production is None:
        return {
            **decision,
            "promoted": True,
            "reason": f"no production model yet; {metric}={value:.4f}",
        }
    previous = decision["previous_value"]
    where = (
        f" on the {versus['rows']} validation and test rows after "
        f"{versus['since']}, which neither trained on"
        if same_rows
        else ", as logged at its training"
    )
    if production[0] == champion["version"]:
        return {**decision, "promoted": False, "reason": "candidate is already in production"}
    if previous is None or value > previous:
        shown = "none" if previous is None else f"{previous:.4f}"
        return {
            **decision,
            "promoted": True,
            "reason": f"{metric} {value:.4f} beats production v{production[0]} ({shown}{where})",
        }
    return {
        **decision,
        "promoted": False,
        "reason": (
            f"{metric} {value:.4f} does not beat production v{production[0]} "
            f"({previous:.4f}{where})"
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
    decision = decide(candidates, current_production(client), settings.promotion_metric)
    now = datetime.now(UTC)
    winner = decision["candidate_version"]
    if decision["promoted"]:
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
