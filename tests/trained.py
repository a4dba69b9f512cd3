"""Running the pipeline's steps in tests, on a small window and a small budget."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from proyecto4_common.feature_spec import FeatureSpec

# A short window keeps training fast; January's first two weeks hold ~12k labelled flights.
TRAINED_WINDOW = (date(2013, 1, 1), date(2013, 1, 14))


@dataclass
class TrainedModel:
    tracking_uri: str
    data_db_url: str
    data_source_url: str
    version: str
    spec: FeatureSpec
    decision: dict
    runs: list[dict]


def small_budget(**settings):
    """Pipeline settings with a tuning budget fit for tests."""
    from pipeline.settings import PipelineSettings

    defaults = {
        "optuna_trials": 3,
        "optuna_timeout_s": 60,
        "lightgbm_max_rounds": 150,
        "shap_sample_rows": 200,
    }
    return PipelineSettings(**{**defaults, **settings})


def run_pipeline_steps(settings, start: date, until: date) -> tuple[list[dict], dict]:
    """The DAG's steps in order, without Airflow (the DAG tests run the real DAG)."""
    from pipeline.steps import run_pipeline_once

    run = run_pipeline_once(settings, start=start, until=until)
    if not run.trigger.retrain:
        return [], {"promoted": False, "reason": run.trigger.reason}
    return run.runs, run.decision
