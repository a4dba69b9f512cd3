"""Optuna over LightGBM: the search space, how big a run's budget is (plan_tuning), one
study prepared once and worked by one or several workers (pipeline/study.py says how they
share it), and the best trial's booster. What is done with it is in pipeline/training.py."""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import optuna

from pipeline import study as study_lib
from pipeline.evaluation import scores
from pipeline.features import FEATURES
from pipeline.settings import PipelineSettings
from pipeline.splits import Splits, load_splits, train_rows
from pipeline.tracking import production_version, use_tracking

log = logging.getLogger(__name__)

OBJECTIVES = ("accuracy", "auroc")


# Rounds between two reports of a trial's score to a study kept in a database: each report
# is a round trip (and each pruning check reads the other trials), which made a 150-round
# trial 20 times slower when every round was reported to PostgreSQL. In memory: every round.
STORED_REPORT_EVERY = 10


# LightGBM's own validation metric that early stopping and pruning watch, per objective.
_LGB_METRIC = {"accuracy": "binary_error", "auroc": "auc"}


EARLY_STOPPING_ROUNDS = 50


# A sound hand-picked starting point, evaluated first so that tuning can only improve on it.
BASELINE_PARAMS = {
    "learning_rate": 0.1,
    "num_leaves": 255,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.8,
    "bagging_fraction": 1.0,
    "lambda_l2": 1e-3,
}


def base_params(settings: PipelineSettings, objective: str) -> dict:
    return {
        "objective": "binary",
        "metric": _LGB_METRIC[objective],
        "verbosity": -1,
        "num_threads": settings.lightgbm_threads,
        "seed": settings.pipeline_seed,
        "bagging_freq": 1,
    }


# The tuned parameters: name -> (type, low, high, log scale). Trials draw from it and the
# production model's logged parameters are read back through it.
SEARCH_SPACE: dict[str, tuple[type, float, float, bool]] = {
    "learning_rate": (float, 0.02, 0.3, True),
    "num_leaves": (int, 15, 511, True),
    "min_data_in_leaf": (int, 5, 300, True),
    "feature_fraction": (float, 0.5, 1.0, False),
    "bagging_fraction": (float, 0.5, 1.0, False),
    "lambda_l2": (float, 1e-3, 10.0, True),
}


def _search_space(trial: optuna.Trial) -> dict:
    return {
        name: (trial.suggest_int if kind is int else trial.suggest_float)(name, low, high, log=log)
        for name, (kind, low, high, log) in SEARCH_SPACE.items()
    }


@dataclass(frozen=True)
class ProductionRun:
    """What tuning reuses from the model in production: its tuned parameters (as logged to
    MLflow, strings) and the size of the training split it saw."""

    version: str
    params: dict[str, str]
    train_rows: int | None


@dataclass(frozen=True)
class TuningPlan:
    trials: int
    timeout_s: float
    # Parameters enqueued as the first trial (production's), or None.
    warm_start: dict | None
    reason: str


def production_run(client) -> ProductionRun | None:
    """The production model's run as tuning needs it, or None when nothing is in production."""
    version = production_version(client)
    if version is None:
        return None
    params = client.get_run(version.run_id).data.params
    rows = params.get("train_rows")
    return ProductionRun(str(version.version), params, int(rows) if rows else None)


def searched_params(logged: dict[str, str]) -> dict | None:
    """The search space's parameters out of a run's logged ones, typed and clipped to the
    space (so Optuna accepts them as a trial); None if any is missing or unreadable."""
    params = {}
    for name, (kind, low, high, _) in SEARCH_SPACE.items():
        try:
            value = kind(float(logged[name]))
        except (KeyError, ValueError):
            return None
        params[name] = min(max(value, kind(low)), kind(high))
    return params


def plan_tuning(
    settings: PipelineSettings, train_rows: int, production: ProductionRun | None
) -> TuningPlan:
    """Pure: the budget of this run and where it starts. Production's parameters always go
    first; the budget shrinks when the training split barely grew since production was
    trained, as on a scheduled next-day run, so such a run costs a fraction of a full one."""
    full = TuningPlan(
        settings.optuna_trials, settings.optuna_timeout_s, None, "no production model: full budget"
    )
    if production is None:
        return full
    warm = searched_params(production.params)
    start = (
        f"from production v{production.version}'s parameters"
        if warm
        else "(production's parameters unreadable)"
    )
    if not production.train_rows:
        return TuningPlan(
            full.trials,
            full.timeout_s,
            warm,
            f"full budget {start}: production's train_rows unknown",
        )
    growth = abs(train_rows - production.train_rows) / production.train_rows
    grown = f"training rows {production.train_rows:,} -> {train_rows:,} ({growth:.1%})"
    if growth < settings.optuna_small_update_fraction:
        trials = min(settings.optuna_small_update_trials, settings.optuna_trials)
        timeout = settings.optuna_timeout_s * trials / settings.optuna_trials
        return TuningPlan(trials, timeout, warm, f"small update, {trials} trials {start}: {grown}")
    return TuningPlan(full.trials, full.timeout_s, warm, f"full budget {start}: {grown}")


class _ReportToTrial:
    """LightGBM callback: reports the validation score (higher is better) to Optuna each
    round and prunes hopeless trials. optuna-integration's callback cannot be used for
    accuracy: LightGBM only has binary_error, whose direction is the opposite of the study's.

    It also ends a trial that is still running when the time budget is spent (Optuna's own
    timeout only stops new trials from starting), except the first, so a model exists."""

    def __init__(self, trial: optuna.Trial, objective: str, deadline: float, every: int = 1):
        # deadline: wall-clock time (time.time()), shared by every worker of the study.
        self.trial = trial
        self.metric = _LGB_METRIC[objective]
        self.deadline = deadline
        self.every = every

    def __call__(self, env: lgb.callback.CallbackEnv) -> None:
        if self.trial.number > 0 and time.time() > self.deadline:
            raise optuna.TrialPruned(f"time budget spent at round {env.iteration}")
        if env.iteration % self.every:
            return
        for _, metric, value, _ in env.evaluation_result_list:
            if metric == self.metric:
                score = 1 - value if metric == "binary_error" else value
                self.trial.report(score, step=env.iteration)
                if self.trial.should_prune():
                    raise optuna.TrialPruned(f"pruned at round {env.iteration}")


class Trials:
    """The objective of one worker: the LightGBM datasets built once, a trial per call. It
    keeps the best booster it trained, so a single worker needs no refit of its best trial."""

    def __init__(
        self,
        settings: PipelineSettings,
        objective: str,
        splits: Splits,
        worker: int,
        report_every: int = STORED_REPORT_EVERY,
    ):
        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, not {objective!r}")
        self.settings, self.objective, self.splits, self.worker = (
            settings,
            objective,
            splits,
            worker,
        )
        X, y = splits.X, splits.y
        self.full_set = lgb.Dataset(
            X["train"].to_numpy(),
            y["train"],
            feature_name=list(FEATURES),
            categorical_feature=[f.name for f in splits.spec.features if f.kind == "categorical"],
            free_raw_data=False,
            # One Dataset serves every trial; trials change min_data_in_leaf.
            params={"feature_pre_filter": False},
        )
        self.valid_set = lgb.Dataset(
            X["validation"].to_numpy(), y["validation"], reference=self.full_set
        )
        self.sample = tuning_sample(
            len(y["train"]), settings.optuna_tuning_rows, settings.pipeline_seed
        )
        # Trials on a sample share the full set's bins; the best parameters are refit on it all.
        self.train_set = self.full_set if self.sample is None else self.full_set.subset(self.sample)
        self.best: dict = {}
        self.report_every = report_every

    def __call__(self, trial: optuna.Trial) -> float:
        # Which worker ran which trial: read in the study when a pod's log is wanted.
        trial.set_user_attr("worker", self.worker)
        params = {**base_params(self.settings, self.objective), **_search_space(trial)}
        deadline = trial.study.user_attrs[study_lib.DEADLINE_ATTR]
        booster = lgb.train(
            params,
            self.train_set,
            num_boost_round=self.settings.lightgbm_max_rounds,
            valid_sets=[self.valid_set],
            callbacks=[
                lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False),
                _ReportToTrial(trial, self.objective, deadline, self.report_every),
            ],
        )
        X, y = self.splits.X, self.splits.y
        value = scores(booster, X["validation"], y["validation"])[self.objective]
        trial.set_user_attr("best_iteration", booster.best_iteration)
        trial.set_user_attr("train_rows", self.train_set.num_data())
        if not self.best or value > self.best["value"]:
            self.best.update(value=value, booster=booster, number=trial.number)
        return value

    def best_booster(self, study: optuna.Study) -> lgb.Booster:
        """The study's best parameters as a model on the training rows: this worker's own
        booster when it ran the best trial on every row, else trained again here."""
        settings, best = self.settings, study.best_trial
        params = {**base_params(settings, self.objective), **best.params}
        if self.sample is not None:
            # More rows want more rounds than the sample's best: early stopping finds them.
            return lgb.train(
                params,
                self.full_set,
                num_boost_round=settings.lightgbm_max_rounds,
                valid_sets=[self.valid_set],
                callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
            )
        if self.best.get("number") == best.number:
            return self.best["booster"]
        # The best trial ran in another worker: its rounds, on the same rows.
        rounds = best.user_attrs.get("best_iteration") or settings.lightgbm_max_rounds
        return lgb.train(params, self.full_set, num_boost_round=rounds)


def _sampler(settings: PipelineSettings, worker: int) -> optuna.samplers.BaseSampler:
    # A seed per worker: with one seed every worker would draw the same random startup
    # trials. constant_liar: a running trial counts as a bad one, so workers that sample at
    # the same time go to different places (Optuna's default since 5.0; said here because
    # the fan-out relies on it).
    return optuna.samplers.TPESampler(seed=settings.pipeline_seed + worker, constant_liar=True)


def _pruner() -> optuna.pruners.BasePruner:
    return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=30)


def _plan_of(plan: TuningPlan) -> dict:
    return {"trials": plan.trials, "warm_start": plan.warm_start, "reason": plan.reason}


def prepare_study(
    settings: PipelineSettings,
    objective: str,
    plan: TuningPlan,
    study_name: str | None = None,
    storage: optuna.storages.BaseStorage | None = None,
) -> optuna.Study:
    """Creates the study (or finds it) with the plan's budget and deadline, production's
    parameters then the baseline enqueued first: tuning can only improve on them."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, not {objective!r}")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize",
        storage=storage,
        study_name=study_name,
        load_if_exists=bool(study_name),
    )
    first = [plan.warm_start] if plan.warm_start else []
    return study_lib.prepare(
        study, plan.trials, plan.timeout_s, [*first, BASELINE_PARAMS], _plan_of(plan)
    )


def load_study(settings: PipelineSettings, study_name: str, worker: int = 0) -> optuna.Study:
    """The shared study as worker `worker` works on it."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.load_study(
        study_name=study_name,
        storage=study_lib.storage(settings, study_lib.storage_url(settings)),
        sampler=_sampler(settings, worker),
        pruner=_pruner(),
    )


def tune_worker(
    settings: PipelineSettings, objective: str, study_name: str, worker: int, splits=None
) -> dict:
    """One worker on the shared study (a mapped task's pod, or a local process)."""
    splits = splits or load_splits(settings)
    study = load_study(settings, study_name, worker)
    trials = Trials(settings, objective, splits, worker)
    study_lib.work(study, trials, settings.optuna_heartbeat_s)
    mine = [t for t in study.get_trials(deepcopy=False) if t.user_attrs.get("worker") == worker]
    log.info("objective %s, worker %s: %s trials of %s", objective, worker, len(mine), study_name)
    return {"worker": worker, "trials": len(mine), "study_trials": len(study.trials)}


def tune(
    settings: PipelineSettings,
    objective: str,
    splits: Splits,
    study_name: str | None = None,
    plan: TuningPlan | None = None,
):
    """Runs the study in this process as one worker (the settings' full budget unless a plan
    says otherwise); returns (best booster, best params, study)."""
    plan = plan or TuningPlan(
        settings.optuna_trials, settings.optuna_timeout_s, None, "full budget"
    )
    # Kept in memory unless PIPELINE_OPTUNA_STORAGE_URL asks for a shared one.
    url = study_lib.storage_url(settings) if settings.optuna_storage_url else None
    # One storage object for both steps: an in-memory study exists only in it.
    storage = study_lib.storage(settings, url) or optuna.storages.InMemoryStorage()
    created = prepare_study(settings, objective, plan, study_name, storage)
    study = optuna.load_study(
        study_name=created.study_name,
        storage=storage,
        sampler=_sampler(settings, 0),
        pruner=_pruner(),
    )
    trials = Trials(settings, objective, splits, 0, STORED_REPORT_EVERY if url else 1)
    study_lib.work(study, trials, settings.optuna_heartbeat_s)
    return trials.best_booster(study), study.best_trial.params, study


def tuning_sample(train_rows: int, tuning_rows: int, seed: int) -> np.ndarray | None:
    """Sorted indices of the training rows trials train on, or None for all of them."""
    if tuning_rows <= 0 or train_rows <= tuning_rows:
        return None
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(train_rows, size=tuning_rows, replace=False))


def worker_slots(settings: PipelineSettings) -> list[list[int]]:
    """The workers of each tuning task: one per mapped task (a pod each under the
    KubernetesExecutor), or all in one task as local processes ("processes": dag.test()
    runs mapped tasks one after another, so only processes run at the same time)."""
    workers = list(range(settings.tuning_workers))
    return [workers] if settings.tuning_fanout == "processes" else [[w] for w in workers]


def prepare_tuning(settings: PipelineSettings, objective: str, study_name: str) -> list[list[int]]:
    """The shared study of `objective`, planned and enqueued once before any worker starts;
    returns worker_slots()."""
    url = study_lib.storage_url(settings)
    if url is None:
        raise study_lib.SqliteWorkers(
            "the tuning tasks share a study: an in-memory SQLite data database has none"
        )
    study_lib.check_workers(url, settings.tuning_workers)
    plan = plan_tuning(settings, train_rows(settings), production_run(use_tracking(settings)))
    log.info("objective %s: %s, %s worker(s)", objective, plan.reason, settings.tuning_workers)
    prepare_study(settings, objective, plan, study_name, study_lib.storage(settings, url))
    return worker_slots(settings)


def run_workers(
    settings: PipelineSettings, objective: str, study_name: str, workers: list[int]
) -> list[dict]:
    """The workers of one tuning task: in this process when there is one, else a process
    each."""
    if len(workers) == 1:
        return [tune_worker(settings, objective, study_name, workers[0])]
    study_lib.run_processes(
        functools.partial(tune_worker, settings, objective, study_name), workers
    )
    return [{"worker": w} for w in workers]


def plan_from(study: optuna.Study) -> TuningPlan:
    plan = study.user_attrs[study_lib.PLAN_ATTR]
    return TuningPlan(plan["trials"], 0.0, plan["warm_start"], plan["reason"])
