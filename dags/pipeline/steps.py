"""The DAG's tasks in the DAG's order, in this process and without Airflow: for callers
that run the pipeline many times in a row (the decay scenario, tests), where starting
Airflow for each run would cost more than the run. project_pipeline.py defines the order:
change both together."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from pipeline.retrain import Trigger
from pipeline.settings import PipelineSettings


@dataclass
class PipelineRun:
    ingested: dict
    quality: dict
    trigger: Trigger
    runs: list[dict] = field(default_factory=list)
    decision: dict | None = None  # the promotion decision, when the run retrained


def run_pipeline_once(
    settings: PipelineSettings, start: date | None = None, until: date | None = None
) -> PipelineRun:
    from pipeline.champion import register_champion
    from pipeline.extract import create_raw_tables, ingest
    from pipeline.preprocess import preprocess_and_split
    from pipeline.quality import measure_live_quality
    from pipeline.retrain import decide_retraining
    from pipeline.training import OBJECTIVES, train_and_log

    create_raw_tables(settings)
    ingested = ingest(settings, start=start, until=until).as_dict()
    quality = measure_live_quality(settings)
    trigger = decide_retraining(settings)
    run = PipelineRun(ingested, quality, trigger)
    if not trigger.retrain:
        return run
    preprocess_and_split(settings)
    run.runs = [train_and_log(settings, objective) for objective in OBJECTIVES]
    run.decision = register_champion(settings, run.runs, trigger.as_dict())
    return run
