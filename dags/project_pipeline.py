"""
### project_pipeline

Pulls the next days of flights from the data source into `raw_data`, rebuilds
`clean_data` split forward in time (test: the newest days; validation: the days before
them; train: everything earlier), tunes two LightGBM models in parallel (validation accuracy
and validation AUROC) with Optuna, logs both to MLflow and gives the `production` alias of
`flight-delay` to the better one only if it beats the model already in production beyond
the noise, on test days neither trained on; the one promoted is first backtested week by
week (its band is what its live quality is judged against).

After ingestion it measures the live quality of the served models (predictions that carried
a flight key joined with the outcomes just ingested, table `model_quality`, with 95 %
intervals and the CBPE estimate) and decides whether to retrain: always
(`PIPELINE_RETRAIN_POLICY=always`, the default) or, with `on_decay`, only when the upper end
of production's live AUROC interval fell below its backtest band, or input drift stayed
above its training reference's spread. A run that does not retrain skips the rest; the
reason is in the task log and, when it retrains, in the promotion ledger.

Params: `until` (YYYY-MM-DD, ingest up to this day; default: `PIPELINE_DAYS_PER_RUN` days
after the watermark) and `start` (YYYY-MM-DD, re-ingest from this day instead of the
watermark). Settings come from the environment (see `pipeline/settings.py`).

Runs on `PIPELINE_SCHEDULE` (default `@daily`; empty: only when triggered) and is active as
soon as it is parsed, so a fresh install trains its first model without a manual step.
Scheduled runs start tuning from the production model's parameters, with a smaller budget
when little data was added since it was trained.

Tuning of each objective is fanned out: `prepare_tuning_<objective>` creates one Optuna
study in the data database (schema `optuna`) with the plan's budget, production's and the
baseline parameters first; `tune_<objective>` is mapped over `PIPELINE_TUNING_WORKERS`
workers (a pod each under the KubernetesExecutor) that share that study and its budget;
`train_model_<objective>` refits the study's best parameters on train and validation and
logs and registers the run.

The tasks are thin: the logic is in the Airflow-free package `pipeline`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from airflow.sdk import Param, dag, get_current_context, task
from proyecto4_common.names import DAG_ID


def _date_param(name: str) -> date | None:
    value = get_current_context()["params"].get(name)
    return date.fromisoformat(value) if value else None


def _settings():
    from pipeline.settings import PipelineSettings

    return PipelineSettings()


def _schedule() -> str | None:
    # Parse time: the settings class is light (pydantic), unlike the task modules.
    return _settings().pipeline_schedule or None


@dag(
    dag_id=DAG_ID,
    description="Ingest, clean and split, tune two LightGBM models, promote the champion",
    doc_md=__doc__,
    schedule=_schedule(),
    start_date=datetime(2025, 1, 1),
    # Each run ingests the next days after the watermark whatever its date: missed
    # intervals need no run of their own.
    catchup=False,
    # Active when first parsed: an installed platform must run without a click in the UI.
    is_paused_upon_creation=False,
    max_active_runs=1,
    tags=["proyecto4"],
    default_args={
        "retries": 2,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": True,
    },
    params={
        "until": Param(
            None, type=["null", "string"], format="date", description="Ingest up to this day"
        ),
        "start": Param(
            None, type=["null", "string"], format="date", description="Re-ingest from this day"
        ),
    },
)
def project_pipeline():
    @task
    def create_raw_tables() -> None:
        from pipeline.extract import create_raw_tables as create

        create(_settings())

    @task
    def extract_data() -> dict:
        from pipeline.extract import ingest

        return ingest(_settings(), start=_date_param("start"), until=_date_param("until")).as_dict()

    @task
    def measure_live_quality() -> dict:
        from pipeline.quality import measure_live_quality as measure

        return measure(_settings())

    @task.short_circuit
    def decide_retraining() -> dict | bool:
        from pipeline.retrain import decide_retraining as decide

        trigger = decide(_settings())
        # Falsy skips every task after this one; the reason is in this task's log.
        return trigger.as_dict() if trigger.retrain else False

    @task
    def preprocess_and_split() -> dict:
        from pipeline.preprocess import preprocess_and_split as run

        return run(_settings())

    def _study_name(objective: str) -> str:
        # One study per run and objective, shared by its prepare, worker and train tasks.
        return f"{DAG_ID}-{get_current_context()['run_id']}-{objective}"

    def tuning(objective: str):
        """prepare_tuning_<objective> -> tune_<objective> (mapped: one pod per worker) ->
        train_model_<objective>."""

        @task(task_id=f"prepare_tuning_{objective}")
        def prepare() -> list[list[int]]:
            from pipeline.tuning import prepare_tuning

            return prepare_tuning(_settings(), objective, _study_name(objective))

        # A retried worker rejoins the study; the budget is the study's, so it adds nothing.
        @task(task_id=f"tune_{objective}", retries=1)
        def work(workers: list[int]) -> list[dict]:
            from pipeline.tuning import run_workers

            return run_workers(_settings(), objective, _study_name(objective), workers)

        @task(task_id=f"train_model_{objective}", retries=1)
        def train() -> dict:
            from pipeline.training import train_and_log

            return train_and_log(_settings(), objective, _study_name(objective), tuned=True)

        slots = prepare()
        trained = train()
        work.expand(workers=slots) >> trained
        return slots, trained

    @task
    def register_champion_model(accuracy: dict, auroc: dict, trigger: dict) -> dict:
        from pipeline.champion import register_champion

        return register_champion(_settings(), [accuracy, auroc], trigger)

    trigger = decide_retraining()
    create_raw_tables() >> extract_data() >> measure_live_quality() >> trigger
    split = preprocess_and_split()
    trigger >> split
    (prepare_accuracy, accuracy), (prepare_auroc, auroc) = tuning("accuracy"), tuning("auroc")
    split >> [prepare_accuracy, prepare_auroc]
    register_champion_model(accuracy, auroc, trigger)


project_pipeline()
