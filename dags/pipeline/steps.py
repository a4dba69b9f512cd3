"""The DAG's tasks in the DAG's order, in this process and without Airflow: for callers
that run the pipeline many times in a row (the decay scenario, tests), where starting
Airflow for each run would cost more than the run. project_pipeline.py defines the order:
change both together."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from proyecto4_common.names import DAG_ID

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
    from pipeline.training import train_and_log, tune_in_workers
    from pipeline.tuning import OBJECTIVES

    create_raw_tables(settings)
    ingested = ingest(settings, start=start, until=until).as_dict()
    quality = measure_live_quality(settings)
    trigger = decide_retraining(settings)
    run = PipelineRun(ingested, quality, trigger)
    if not trigger.retrain:
        return run
    preprocess_and_split(settings)
    if settings.tuning_workers > 1:
        # A study of its own per call: runs in a row must not share one.
        tag = uuid.uuid4().hex[:12]
        run.runs = [
            tune_in_workers(settings, objective, f"{DAG_ID}-steps-{tag}-{objective}")
            for objective in OBJECTIVES
        ]
    else:
        # One worker tunes in this process on an in-memory study, as the DAG's tasks do
        # on a stored one.
        run.runs = [train_and_log(settings, objective) for objective in OBJECTIVES]
    run.decision = register_champion(settings, run.runs, trigger.as_dict())
    return run
