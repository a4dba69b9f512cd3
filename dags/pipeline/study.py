"""One Optuna study shared by several tuning workers (pods under the KubernetesExecutor,
processes locally): where it is stored, how it is prepared once, and how each worker takes
part so that the trial budget is the study's, not each worker's.

Nothing here knows LightGBM: pipeline/tuning.py gives the objective.
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import time
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

import optuna
from optuna.trial import TrialState
from proyecto4_common.database import database_url, database_url_string
from sqlalchemy import text

from pipeline.db import make_engine
from pipeline.settings import PipelineSettings

log = logging.getLogger(__name__)

# The data database's schema (PostgreSQL) or the file beside its SQLite file that holds the
# studies when PIPELINE_OPTUNA_STORAGE_URL is empty: Optuna's tables (studies, trials,
# alembic_version, ...) kept apart from the pipeline's.
OPTUNA_SCHEMA = "optuna"
SQLITE_FILE = "optuna.db"
# What the budget counts. FAIL is left out: a trial failed for a stale heartbeat comes back
# as a WAITING copy (RetryHeartbeatStaleTrialCallback), counted again once a worker runs it,
# so a killed worker's trial is counted once and never lost. RUNNING is in: a worker that
# finishes a trial stops when the others' running trials already fill the budget, instead
# of each worker overshooting it by one. WAITING is out: enqueued trials (production's, the
# baseline) must still run when the budget is smaller than the queue plus one.
COUNTED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)
# A trial whose worker died is retried this many times; a trial that kills every worker
# it lands on (out of memory) must not take the whole budget.
MAX_RETRIES = 2
# Seconds between looks of a worker with nothing left to run at the others' running trials:
# short, since the task (and so the refit after it) ends only when it leaves.
IDLE_POLL_S = 1.0
# Study user attributes the prepare step records for every worker and the refit.
BUDGET_ATTR, DEADLINE_ATTR, PLAN_ATTR = "trial_budget", "deadline", "plan"


class SurplusTrial(Exception):
    """A trial that started after the budget was full: two workers ended trials at the same
    moment and both saw room for one more. It ends at once as FAIL (not counted, not
    retried), so the study holds exactly its budget of finished trials."""


class SqliteWorkers(ValueError):
    """More than one worker asked for on a SQLite study."""


def storage_url(settings: PipelineSettings) -> str | None:
    """Where studies live: PIPELINE_OPTUNA_STORAGE_URL, else the data database (schema
    `optuna` on PostgreSQL, `optuna.db` beside a SQLite file); None for an in-memory SQLite
    data database, which no second process could reach."""
    if settings.optuna_storage_url:
        return database_url_string(settings.optuna_storage_url)
    url = database_url(settings.data_db_url)
    if url.get_backend_name() == "postgresql":
        # libpq's `options` sets the search path of every connection Optuna opens, so its
        # tables are created and read in the schema create_storage_schema made.
        url = url.update_query_dict({"options": f"-csearch_path={OPTUNA_SCHEMA}"})
    elif url.database in (None, "", ":memory:"):
        return None
    else:
        url = url.set(database=str(Path(url.database).with_name(SQLITE_FILE)))
    return url.render_as_string(hide_password=False)


def create_storage_schema(settings: PipelineSettings) -> None:
    """The schema of the default study storage on a PostgreSQL data database (idempotent;
    Optuna creates its tables in it on first use)."""
    if settings.optuna_storage_url:
        return
    engine = make_engine(settings.data_db_url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {OPTUNA_SCHEMA}"))


def check_workers(url: str | None, workers: int) -> None:
    """Refuses concurrent workers where they cannot work."""
    if workers <= 1:
        return
    if url is None:
        raise SqliteWorkers(
            f"{workers} tuning workers need a study storage that other processes reach: set "
            "PIPELINE_OPTUNA_STORAGE_URL or a PostgreSQL DATA_DB_URL"
        )
    if database_url(url).get_backend_name() == "sqlite":
        raise SqliteWorkers(
            f"PIPELINE_TUNING_WORKERS={workers} needs a PostgreSQL study storage: SQLite locks "
            "the whole file on every write, so concurrent Optuna workers fail with 'database is "
            "locked' (Optuna's documentation advises against SQLite for parallel optimization). "
            "Set DATA_DB_URL or PIPELINE_OPTUNA_STORAGE_URL to PostgreSQL, or use one worker."
        )


def storage(settings: PipelineSettings, url: str | None) -> optuna.storages.BaseStorage | None:
    """The RDB storage with heartbeats (a dead worker's RUNNING trial is failed after the
    grace period and retried), or None (in memory) without a URL."""
    if url is None:
        return None
    with warnings.catch_warnings():
        # Heartbeats are "experimental" since Optuna 2.9; they are what makes a retry possible.
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RDBStorage(
            url,
            engine_kwargs={"pool_pre_ping": True},
            heartbeat_interval=settings.optuna_heartbeat_s,
            grace_period=settings.optuna_grace_s,
            heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                max_retry=MAX_RETRIES
            ),
        )


def prepare(
    study: optuna.Study, budget: int, timeout_s: float, enqueued: Iterable[dict], plan: dict
) -> optuna.Study:
    """Records the budget and the deadline and enqueues the first trials, once: a retried
    prepare task (or a second call) finds them and changes nothing."""
    if BUDGET_ATTR in study.user_attrs:
        return study
    for params in enqueued:
        study.enqueue_trial(params, skip_if_exists=True)
    study.set_user_attr(PLAN_ATTR, plan)
    # Wall-clock time: the workers are other pods, with clocks of their own but no shared
    # monotonic one.
    study.set_user_attr(DEADLINE_ATTR, time.time() + timeout_s)
    study.set_user_attr(BUDGET_ATTR, budget)
    return study


def counted(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=COUNTED))


def work(study: optuna.Study, objective: Callable[[optuna.Trial], float], poll_s: float) -> None:
    """One worker's share: trials until the study's budget is counted or its deadline
    passes. It leaves only when no trial runs anywhere, so that a trial whose worker died is
    failed (Optuna's heartbeat check) and retried by a worker still there. `poll_s`: how
    often it looks while only others' trials run (the heartbeat interval)."""
    budget, deadline = study.user_attrs[BUDGET_ATTR], study.user_attrs[DEADLINE_ATTR]
    while (left := deadline - time.time()) > 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)
        if counted(study) < budget or _retries_waiting(study):
            study.optimize(
                functools.partial(_within_budget, objective, budget),
                timeout=left,
                catch=(SurplusTrial,),
                callbacks=[optuna.study.MaxTrialsCallback(budget, states=COUNTED)],
            )
        elif study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            # Another worker's trial: it ends, or its heartbeat goes stale and it is retried.
            time.sleep(min(poll_s, IDLE_POLL_S))
        else:
            return


def _within_budget(objective, budget: int, trial: optuna.Trial) -> float:
    # Trial numbers are handed out by the database in order: the budget's first trials win.
    earlier = [
        t for t in trial.study.get_trials(deepcopy=False, states=COUNTED) if t.number < trial.number
    ]
    if len(earlier) >= budget:
        trial.set_user_attr("surplus", True)
        raise SurplusTrial(f"trial {trial.number}: the budget of {budget} trials is full")
    return objective(trial)


def _retries_waiting(study: optuna.Study) -> bool:
    # Only retries: enqueued first trials the budget leaves out stay out, as with n_trials.
    retried = optuna.storages.RetryHeartbeatStaleTrialCallback.retried_trial_number
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return any(
            retried(t) is not None
            for t in study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
        )


def run_processes(target: Callable[[int], None], workers: Iterable[int]) -> None:
    """`target(worker)` for each worker, in a process of its own, all at once (the local
    fan-out: dag.test() runs mapped tasks one after another)."""
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=target, args=(w,), name=f"tuning-{w}") for w in workers]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    failed = {p.name: p.exitcode for p in processes if p.exitcode != 0}
    if failed:
        raise RuntimeError(f"tuning workers failed (exit codes): {failed}")
