"""Settings of the pipeline, read from the environment when a task runs (and, for the
schedule, when the DAG file is parsed)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from proyecto4_common.names import TEST_AUROC
from proyecto4_common.settings import CommonSettings
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _env(name: str, default, **kwargs):
    return Field(default, validation_alias=f"PIPELINE_{name}", **kwargs)


class PipelineSettings(CommonSettings):
    """The shared settings (CommonSettings) and the pipeline's own, all named PIPELINE_*:
    fields named pipeline_* read their own name, the others an explicit PIPELINE_ alias."""

    # populate_by_name: code and tests pass the field names (optuna_trials=...) directly.
    model_config = SettingsConfigDict(
        env_prefix="", extra="ignore", case_sensitive=False, populate_by_name=True
    )

    # Which shard of the source this deployment ingests (1..N, see the data source).
    pipeline_group: int = Field(1, ge=1)
    # First date asked for when nothing has been ingested yet.
    pipeline_start_date: date = date(2013, 1, 1)
    # Days ingested by one run when no `until` is given.
    pipeline_days_per_run: int = Field(7, ge=1)
    # The DAG's schedule (a cron expression or a preset such as @daily); empty: no
    # schedule, runs only when triggered. Read when the DAG file is parsed; dag.test()
    # (the local CLI) ignores it.
    pipeline_schedule: str = "@daily"
    # Rows written to raw_data per COPY/INSERT block.
    pipeline_block_size: int = Field(15_000, ge=1)
    pipeline_request_timeout_s: float = Field(30.0, gt=0)
    # Attempts per day on 5xx answers, timeouts and refused connections.
    pipeline_request_attempts: int = Field(5, ge=1)
    pipeline_backoff_s: float = Field(1.0, ge=0)
    # How clean_data is split. "forward": test is the newest `test_days` days of the window,
    # validation the `validation_days` days before them, train everything earlier, so
    # tuning picks what predicts the next days and test measures what production gets.
    # "random": a stratified random split by the fractions below, for comparison only: its
    # test rows share their days with training rows and score about 0.1 AUROC too high.
    pipeline_split: Literal["forward", "random"] = "forward"
    pipeline_test_days: int = Field(14, ge=1)
    pipeline_validation_days: int = Field(14, ge=1)
    pipeline_validation_fraction: float = Field(0.15, gt=0, lt=0.5)
    pipeline_test_fraction: float = Field(0.15, gt=0, lt=0.5)
    pipeline_seed: int = 42
    # Tuning budget of each training task: whichever runs out first.
    optuna_trials: int = _env("OPTUNA_TRIALS", 25, ge=1)
    optuna_timeout_s: float = _env("OPTUNA_TIMEOUT_S", 240.0, gt=0)
    # Trials train on a random sample of at most this many training rows, and the best
    # parameters are then trained once on every row (early stopping on validation): on a
    # year of flights (230k training rows) a trial costs about a fifth. 0: every row.
    optuna_tuning_rows: int = _env("OPTUNA_TUNING_ROWS", 50_000, ge=0)
    # Where the DAG's tuning studies live. Empty: the data database (schema `optuna` on
    # PostgreSQL, created by create_raw_tables; `optuna.db` beside a SQLite file). The DAG's
    # tuning workers, prepare and train tasks are pods of their own and share the study
    # there; pipeline.steps with one worker keeps it in memory unless this is set.
    optuna_storage_url: str = _env("OPTUNA_STORAGE_URL", "")
    # Workers tuning each objective on one study (the budget above is the study's, not each
    # worker's). Above 1 needs PostgreSQL: Optuna's SQLite storage locks the whole file.
    tuning_workers: int = _env("TUNING_WORKERS", 1, ge=1)
    # How the DAG runs them: "tasks", a mapped task (a pod under the KubernetesExecutor) per
    # worker; "processes", one task starting them as local processes (`proyecto4 pipeline
    # run --workers N`: dag.test() runs mapped tasks one after another).
    tuning_fanout: Literal["tasks", "processes"] = _env("TUNING_FANOUT", "tasks")
    # Seconds between a running trial's heartbeats, and without one after which another
    # worker marks it failed and enqueues it again: a worker pod killed mid-trial (OOM,
    # eviction) loses neither its trial nor the budget. The grace covers a slow database,
    # not the trial's length: heartbeats come from a thread while LightGBM trains.
    optuna_heartbeat_s: int = _env("OPTUNA_HEARTBEAT_S", 10, ge=1)
    optuna_grace_s: int = _env("OPTUNA_GRACE_S", 60, ge=1)
    # Warm start: a run whose training split grew by less than this fraction since the
    # production model was trained (its logged train_rows) tunes with the smaller budget
    # below, starting from production's parameters. 0 turns the smaller budget off.
    optuna_small_update_fraction: float = _env("OPTUNA_SMALL_UPDATE_FRACTION", 0.1, ge=0)
    # Trials of that smaller budget (production's and the baseline's parameters included);
    # its timeout shrinks in the same proportion as the trials.
    optuna_small_update_trials: int = _env("OPTUNA_SMALL_UPDATE_TRIALS", 5, ge=1)
    lightgbm_threads: int = _env("LIGHTGBM_THREADS", 2, ge=1)
    # Upper bound on boosting rounds, and so on trees: each costs every prediction and SHAP
    # plot. Early stopping on validation ends most trials sooner; trials whose learning rate
    # is too small for this budget score lower, so tuning steers away from them.
    lightgbm_max_rounds: int = _env("LIGHTGBM_MAX_ROUNDS", 300, ge=10)
    # Metric that decides the champion and whether it replaces production.
    promotion_metric: str = _env("PROMOTION_METRIC", TEST_AUROC)
    mlflow_experiment: str = _env("MLFLOW_EXPERIMENT", "flight-delay")
    # Rows of the test split explained for the SHAP plots.
    # SHAP costs a full tree walk per row and tree (a 900-tree model: minutes for 2,000 rows).
    shap_sample_rows: int = _env("SHAP_SAMPLE_ROWS", 500, ge=50)
    # Live quality: the newest ingested days recomputed on every run (predictions served
    # after their flight's outcome arrived still count); older days are recorded once.
    quality_recompute_days: int = _env("QUALITY_RECOMPUTE_DAYS", 3, ge=0)
    # Backtest at training time: the chosen parameters retrained for each of the newest
    # `backtest_folds` weeks on every row before it and scored on it (rolling origin). The
    # folds' mean and spread are the model's expected live AUROC and its band. 0: none.
    backtest_folds: int = _env("BACKTEST_FOLDS", 4, ge=0)
    backtest_fold_days: int = _env("BACKTEST_FOLD_DAYS", 7, ge=1)
    # When a run retrains: "always" (every run), or "on_decay": only without a production
    # model, when quality decayed or when input drift stayed high. Quality decayed: the
    # upper end of the 95 % interval of production's live AUROC over its newest
    # `quality_window_days` days (at least `quality_min_count` labelled predictions) is
    # below its backtest band, mean - `quality_band_k` standard deviations of its folds.
    retrain_policy: Literal["always", "on_decay"] = _env("RETRAIN_POLICY", "always")
    quality_window_days: int = _env("QUALITY_WINDOW_DAYS", 7, ge=1)
    quality_min_count: int = _env("QUALITY_MIN_COUNT", 1000, ge=1)
    quality_band_k: float = _env("QUALITY_BAND_K", 3.0, ge=0)
    # "on_decay" also retrains when input drift stays high: the largest PSI of a feature
    # (calendar features left out: one day's dates always differ from training's) over a
    # trailing window of `drift_window_days` ingested days, against production's reference
    # histograms, above production's threshold on each of the newest `drift_days` days.
    # The threshold comes from the reference: the PSI of each `drift_window_days` window
    # of the training days against the whole, mean + `drift_band_k` standard deviations
    # (logged with the model as reference_psi_mean and reference_psi_sd). One season's
    # weather differs from a year's, so a fixed threshold is either always or never crossed.
    drift_trigger: bool = _env("DRIFT_TRIGGER", True)
    drift_band_k: float = _env("DRIFT_BAND_K", 3.0, ge=0)
    drift_days: int = _env("DRIFT_DAYS", 7, ge=1)
    drift_window_days: int = _env("DRIFT_WINDOW_DAYS", 7, ge=1)
    # Promotion: the candidate replaces production only if, on the newest days neither
    # trained on, its AUROC minus production's has a 95 % paired-bootstrap interval whose
    # lower end is above `promotion_min_difference`: better beyond the noise.
    promotion_min_difference: float = _env("PROMOTION_MIN_DIFFERENCE", 0.0, ge=-1, le=1)
    promotion_bootstrap_resamples: int = _env("PROMOTION_BOOTSTRAP_RESAMPLES", 1000, ge=100)
    # "on_decay": neither trigger retrains again until this many days newer than the data
    # of the last retraining (promoted or kept out) have been ingested. A candidate kept out
    # leaves production as decayed as before: without a cooldown every run would retrain.
    # 0 turns it off.
    retrain_cooldown_days: int = _env("RETRAIN_COOLDOWN_DAYS", 7, ge=0)


class FirstRunSettings(BaseSettings):
    """Settings of `python -m pipeline.first_run`, the install-time trigger of the DAG."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    # Airflow's API server (the chart points it at the release's api-server Service).
    airflow_api_url: str = "http://127.0.0.1:8080"
    # The admin user the chart's create-user Job makes, and its password (from its Secret).
    airflow_admin_user: str = "admin"
    airflow_admin_password: str = ""
    # How long to wait for the API server, the admin user and the parsed DAG.
    first_run_wait_s: float = Field(900.0, gt=0)
    first_run_poll_s: float = Field(5.0, gt=0)
    first_run_request_timeout_s: float = Field(15.0, gt=0)
