"""Tuning fanned out: worker processes on one Optuna study in the real PostgreSQL, as the
DAG's mapped tuning tasks run it (issue 24)."""

from __future__ import annotations

import functools
import multiprocessing
import os
import signal
import time
from datetime import date, timedelta

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState
from servers import mlflow_server
from trained import small_budget

OBJECTIVE = "auroc"
BUDGET = 6
# January: 14 test days, 14 validation days before them, train the days before those.
CUT_OFF = date(2013, 2, 1)
DAYS = 14


@functools.cache
def _january():
    """The flights of the data source up to the cut-off's test days, split as forward."""
    import pandas as pd
    from data_source.flights import load_flights
    from pipeline.preprocess import labelled_features

    raw = load_flights()
    raw = raw[raw["month"] <= 2].reset_index(drop=True)
    raw["source_date"] = pd.to_datetime(raw[["year", "month", "day"]]).dt.date
    features = labelled_features(raw)
    window = features[features["flight_date"] < CUT_OFF + timedelta(days=DAYS)]
    day = window["flight_date"]
    dataset = np.where(
        day >= CUT_OFF,
        "test",
        np.where(day >= CUT_OFF - timedelta(days=DAYS), "validation", "train"),
    )
    return window.assign(dataset=dataset)


@pytest.fixture
def settings(postgres_db, tmp_path, monkeypatch):
    """clean_data of early 2013 in a fresh database; studies in its `optuna` schema; a
    heartbeat of 1 s so that a dead worker's trial is failed within seconds."""
    from pipeline.db import make_engine, replace_table
    from pipeline.extract import create_raw_tables
    from proyecto4_common.names import CLEAN_TABLE

    # mlflow.set_tracking_uri exports it: put back what was there after the test.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    settings = small_budget(
        proyecto4_home=tmp_path / "home",
        data_db_url=postgres_db,
        # Two workers on two cores: one thread each.
        lightgbm_threads=1,
        optuna_trials=BUDGET,
        optuna_timeout_s=300,
        optuna_tuning_rows=3_000,
        lightgbm_max_rounds=80,
        optuna_heartbeat_s=1,
        optuna_grace_s=2,
        tuning_workers=2,
    )
    create_raw_tables(settings)
    replace_table(make_engine(postgres_db), CLEAN_TABLE, _january(), 15_000)
    return settings


def _prepared(settings, name: str) -> optuna.Study:
    from pipeline.tuning import load_study, prepare_tuning

    assert prepare_tuning(settings, OBJECTIVE, name) == [[0], [1]]
    return load_study(settings, name)


def _states(study: optuna.Study) -> dict[TrialState, int]:
    return {s: sum(t.state == s for t in study.trials) for s in TrialState}


def _failed(study: optuna.Study) -> list[int]:
    """Failed trials but those that started after the budget was full (study.SurplusTrial)."""
    return [
        t.number
        for t in study.trials
        if t.state == TrialState.FAIL and not t.user_attrs.get("surplus")
    ]


def test_two_workers_share_the_budget_without_duplicates(settings, tmp_path):
    from pipeline.training import train_and_log
    from pipeline.tuning import run_workers

    # No worker dies here: a grace long enough that a loaded machine's late heartbeat never
    # fails a trial that is still running (the kill test below keeps it short).
    settings = settings.model_copy(update={"optuna_grace_s": 60})
    study = _prepared(settings, "two-workers")
    run_workers(settings, OBJECTIVE, "two-workers", [0, 1])
    trials = study.trials
    states = _states(study)

    assert states[TrialState.COMPLETE] + states[TrialState.PRUNED] == BUDGET
    assert states[TrialState.RUNNING] == states[TrialState.WAITING] == 0
    assert _failed(study) == []
    assert len({t.number for t in trials}) == len(trials)
    assert {t.user_attrs["worker"] for t in trials} == {0, 1}
    # Production's parameters (none here) then the baseline ran first, once.
    assert trials[0].params["num_leaves"] == 255
    assert sum(t.params == trials[0].params for t in trials) == 1

    with mlflow_server(f"sqlite:///{tmp_path / 'mlflow.db'}", tmp_path / "art") as url:
        from mlflow import MlflowClient

        logged = train_and_log(
            settings.model_copy(update={"mlflow_tracking_uri": url}),
            OBJECTIVE,
            "two-workers",
            tuned=True,
        )
        params = MlflowClient(url).get_run(logged["run_id"]).data.params

    best = study.best_params
    assert {name: params[name] for name in best} == {n: str(v) for n, v in best.items()}
    assert (params["trials"], params["trial_budget"], params["tuning_workers"]) == (
        str(len(trials)),
        str(BUDGET),
        "2",
    )


def _running_trial_of(study: optuna.Study, worker: int, timeout_s: float = 120):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for trial in study.get_trials(states=(TrialState.RUNNING,)):
            if trial.user_attrs.get("worker") == worker:
                return trial
        time.sleep(0.02)
    raise AssertionError(f"worker {worker} never ran a trial")


def test_a_worker_killed_mid_trial_leaves_its_trial_retried_not_running(settings):
    from pipeline.tuning import load_study, tune_worker

    study = _prepared(settings, "killed")
    work = functools.partial(tune_worker, settings, OBJECTIVE, "killed")
    context = multiprocessing.get_context("spawn")
    survivor, victim = (context.Process(target=work, args=(w,)) for w in (0, 1))
    survivor.start()
    victim.start()
    killed = _running_trial_of(study, worker=1)
    os.kill(victim.pid, signal.SIGKILL)
    victim.join()
    # Still RUNNING after the kill: the worker died mid-trial, not between trials.
    assert study.trials[killed.number].state == TrialState.RUNNING
    survivor.join(timeout=300)
    assert survivor.exitcode == 0

    # Read afresh: this process's storage cached the killed trial as it was when running.
    study = load_study(settings, "killed")
    trials = study.trials
    states = _states(study)
    retries = [t for t in trials if t.system_attrs.get("failed_trial") == killed.number]
    assert states[TrialState.RUNNING] == states[TrialState.WAITING] == 0
    assert _failed(study) == [killed.number]
    assert [t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in retries] == [True]
    # Optuna's retry carries the dead trial's parameters over (read as they were by then).
    assert retries[0].system_attrs["retry_history"] == [killed.number]
    assert set(retries[0].params) == {
        "learning_rate",
        "num_leaves",
        "min_data_in_leaf",
        "feature_fraction",
        "bagging_fraction",
        "lambda_l2",
    }
    assert states[TrialState.COMPLETE] + states[TrialState.PRUNED] == BUDGET
    assert len({t.number for t in trials}) == len(trials)


def test_sqlite_refuses_two_workers_and_says_why(tmp_path):
    from pipeline.study import SqliteWorkers
    from pipeline.tuning import prepare_tuning

    settings = small_budget(
        proyecto4_home=tmp_path, data_db_url=f"sqlite:///{tmp_path / 'data.db'}", tuning_workers=2
    )
    with pytest.raises(SqliteWorkers, match="SQLite locks the whole file"):
        prepare_tuning(settings, OBJECTIVE, "sqlite")


@pytest.mark.parametrize(
    ("data_db_url", "storage"),
    [
        (
            "postgresql://u:p@db:5432/data",
            "postgresql+psycopg://u:p@db:5432/data?options=-csearch_path%3Doptuna",
        ),
        ("sqlite:////home/x/data.db", "sqlite:////home/x/optuna.db"),
        ("sqlite://", None),
    ],
    ids=["postgres-schema", "sqlite-file-beside", "sqlite-in-memory"],
)
def test_default_storage_is_the_data_database(data_db_url, storage, tmp_path):
    from pipeline.study import storage_url

    settings = small_budget(proyecto4_home=tmp_path, data_db_url=data_db_url)
    assert storage_url(settings) == storage


def test_one_worker_per_mapped_task_or_all_in_one_local_task(tmp_path):
    from pipeline.tuning import worker_slots

    settings = small_budget(proyecto4_home=tmp_path, tuning_workers=3)
    assert worker_slots(settings) == [[0], [1], [2]]
    local = settings.model_copy(update={"tuning_fanout": "processes"})
    assert worker_slots(local) == [[0, 1, 2]]
