"""train_model_accuracy / train_model_auroc: Optuna-tuned LightGBM, logged to MLflow."""

from __future__ import annotations

import functools
import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb
import numpy as np
import optuna
import pandas as pd
from proyecto4_common.feature_spec import FeatureSpec
from proyecto4_common.names import (
    BACKTEST_AUROC_MEAN,
    BACKTEST_AUROC_SD,
    BACKTEST_FILE,
    BACKTEST_PLOT,
    CLEAN_TABLE,
    FEATURE_SPEC_FILE,
    MODEL_ARTIFACT_PATH,
    MODEL_NAME,
    RANDOM_SPLIT_TEST_AUROC,
    REFERENCE_PSI_MEAN,
    REFERENCE_PSI_SD,
    SHAP_BAR_PLOT,
    SHAP_SUMMARY_PLOT,
    TEST_ACCURACY,
    TEST_AUROC,
    TEST_CALIBRATION_ERROR,
    TEST_CALIBRATION_ERROR_RAW,
    VAL_ACCURACY,
    VAL_AUROC,
)
from sqlalchemy import text as sql_text

from pipeline import study as study_lib
from pipeline.db import make_engine
from pipeline.evaluation import (
    backtest,
    backtest_plot,
    calibration_errors,
    fit_calibration,
    probabilities,
    random_split_auroc,
    reference_drift,
    scores,
    training_set,
)
from pipeline.features import FEATURES, FLIGHT_DATE, TARGET, encode
from pipeline.settings import PipelineSettings
from pipeline.spec import build_spec, categories_of
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
EXAMPLE_ROWS = 5
# A sound hand-picked starting point, evaluated first so that tuning can only improve on it.
BASELINE_PARAMS = {
    "learning_rate": 0.1,
    "num_leaves": 255,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.8,
    "bagging_fraction": 1.0,
    "lambda_l2": 1e-3,
}


@dataclass
class Splits:
    X: dict[str, pd.DataFrame]
    y: dict[str, np.ndarray]
    spec: FeatureSpec
    # A few validation rows as they are, before encoding: the model's input example.
    raw_example: pd.DataFrame
    # Validation and test rows before encoding, with their day (champion.versus_production).
    raw: dict[str, pd.DataFrame] | None = None
    # Each row's flight day, per split (the backtest's folds and the drift reference).
    days: dict[str, pd.Series] | None = None
    # The newest flight day in clean_data: logged, so that a later run knows which of its
    # rows this model never saw.
    data_until: str | None = None


def load_splits(settings: PipelineSettings) -> Splits:
    return splits_of(pd.read_sql_table(CLEAN_TABLE, make_engine(settings.data_db_url)))


def splits_of(clean: pd.DataFrame) -> Splits:
    """clean_data's rows (with their `dataset`) as training reads them."""
    spec = build_spec(clean)
    categories = categories_of(spec)
    X, y, raw, days = {}, {}, {}, {}
    for name in ("train", "validation", "test"):
        part = clean[clean["dataset"] == name]
        X[name] = encode(part[list(FEATURES)], categories).reset_index(drop=True)
        y[name] = part[TARGET].to_numpy()
        if FLIGHT_DATE in part:
            days[name] = pd.to_datetime(part[FLIGHT_DATE]).reset_index(drop=True)
            if name != "train":
                raw[name] = part[[*FEATURES, FLIGHT_DATE]].reset_index(drop=True)
    example = clean.loc[clean["dataset"] == "validation", list(FEATURES)].head(EXAMPLE_ROWS)
    until = str(pd.to_datetime(clean[FLIGHT_DATE]).max().date()) if FLIGHT_DATE in clean else None
    return Splits(
        X=X,
        y=y,
        spec=spec,
        raw_example=example.reset_index(drop=True),
        raw=raw,
        days=days or None,
        data_until=until,
    )


def _base_params(settings: PipelineSettings, objective: str) -> dict:
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


class _Trials:
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
        params = {**_base_params(self.settings, self.objective), **_search_space(trial)}
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
        params = {**_base_params(settings, self.objective), **best.params}
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
    trials = _Trials(settings, objective, splits, worker)
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
    trials = _Trials(settings, objective, splits, 0, STORED_REPORT_EVERY if url else 1)
    study_lib.work(study, trials, settings.optuna_heartbeat_s)
    return trials.best_booster(study), study.best_trial.params, study


def tuning_sample(train_rows: int, tuning_rows: int, seed: int) -> np.ndarray | None:
    """Sorted indices of the training rows trials train on, or None for all of them."""
    if tuning_rows <= 0 or train_rows <= tuning_rows:
        return None
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(train_rows, size=tuning_rows, replace=False))


def _shap_figures(booster: lgb.Booster, sample: pd.DataFrame, out: Path) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import shap

    explanation = shap.TreeExplainer(booster)(sample)
    paths = {}
    for artifact, draw in (
        (SHAP_SUMMARY_PLOT, lambda: shap.plots.beeswarm(explanation, max_display=20, show=False)),
        (SHAP_BAR_PLOT, lambda: shap.plots.bar(explanation, max_display=20, show=False)),
    ):
        plt.figure()
        draw()
        path = out / Path(artifact).name
        plt.gcf().savefig(path, bbox_inches="tight", dpi=110)
        plt.close("all")
        paths[artifact] = path
    return paths


# The rows of the model test measures, and of the model that serves.
MEASURED_FIT = ("train", "validation")
SERVED_FIT = ("train", "validation", "test")


def refit(
    settings: PipelineSettings,
    objective: str,
    splits: Splits,
    params: dict,
    rounds: int,
    parts: tuple[str, ...] = MEASURED_FIT,
) -> lgb.Booster:
    """The chosen parameters with `rounds` trees on the rows of `parts`."""
    X = pd.concat([splits.X[n] for n in parts], ignore_index=True)
    y = np.concatenate([splits.y[n] for n in parts])
    return lgb.train(
        {**_base_params(settings, objective), **params},
        training_set(X, y, splits.spec),
        num_boost_round=max(rounds, 1),
    )


def fitted_window(days: int, wanted: int) -> int:
    """`wanted` days when `days` hold at least two such windows, else half of them (at least
    one): the first model of a fresh install has a week of data."""
    return wanted if days >= 2 * wanted else max(1, days // 2)


def reference_of(
    settings: PipelineSettings, splits: Splits, spec: FeatureSpec
) -> tuple[dict, dict]:
    """The drift trigger's reference (metrics, params): the spread of drift between windows
    of the training days. Every run logs it: it is cheap, and the decision to promote needs
    none of it."""
    if not splits.days:
        return {}, {}
    train_days = splits.days["train"].nunique()
    window = fitted_window(train_days, settings.drift_window_days)
    reference = reference_drift(splits.X["train"], splits.days["train"], spec, window)
    metrics = {
        name: value
        for name, value in ((REFERENCE_PSI_MEAN, reference.mean), (REFERENCE_PSI_SD, reference.sd))
        if value is not None
    }
    return metrics, {"reference_window_days": window}


def log_forward_evaluation(settings: PipelineSettings, client, candidate: dict) -> dict:
    """Backtests the candidate that is about to be promoted and logs, into its run, the
    backtest (the band decay is judged against) and the random-split AUROC (forward split
    only: the optimism a random split hides). Only the promoted candidate needs them, and
    they cost five fits of the whole window (pipeline/evaluation.py), so a candidate kept out
    logs none (`forward_evaluation` says which). Returns the metrics logged."""
    splits = load_splits(settings)
    full_params = {**_base_params(settings, candidate["objective"]), **candidate["params"]}
    rounds = candidate["rounds"]
    run_id = candidate["run_id"]
    X = pd.concat([splits.X[n] for n in ("train", "validation", "test")], ignore_index=True)
    y = np.concatenate([splits.y[n] for n in ("train", "validation", "test")])
    metrics: dict[str, float] = {}
    params: dict = {"forward_evaluation": "promoted candidate"}
    with tempfile.TemporaryDirectory() as tmp:
        if splits.days and settings.backtest_folds:
            days = pd.concat(
                [splits.days[n] for n in ("train", "validation", "test")], ignore_index=True
            )
            folds = settings.backtest_folds
            # A short window (a first run ingests a week) gets shorter folds rather than
            # none: without a backtest, decay could never be judged for the model served.
            fold_days = fitted_window(days.nunique() // folds, settings.backtest_fold_days)
            result = backtest(X, y, days, splits.spec, full_params, rounds, folds, fold_days)
            params.update(backtest_folds=len(result.folds), backtest_fold_days=fold_days)
            if result.mean is not None:
                metrics[BACKTEST_AUROC_MEAN] = result.mean
            if result.sd is not None:
                metrics[BACKTEST_AUROC_SD] = result.sd
            client.log_text(run_id, result.to_json(), BACKTEST_FILE)
            plot = backtest_plot(
                result,
                candidate["metrics"][TEST_AUROC],
                Path(tmp) / Path(BACKTEST_PLOT).name,
                settings.quality_band_k,
            )
            client.log_artifact(run_id, str(plot), str(Path(BACKTEST_PLOT).parent))
        if settings.pipeline_split == "forward":
            metrics[RANDOM_SPLIT_TEST_AUROC] = random_split_auroc(
                X,
                y,
                splits.spec,
                full_params,
                rounds,
                settings.pipeline_validation_fraction,
                settings.pipeline_test_fraction,
                settings.pipeline_seed,
            )
    for name, value in metrics.items():
        client.log_metric(run_id, name, value)
    for name, value in params.items():
        client.log_param(run_id, name, value)
    log.info("v%s: forward evaluation %s", candidate["version"], metrics)
    return metrics


def worker_slots(settings: PipelineSettings) -> list[list[int]]:
    """The workers of each tuning task: one per mapped task (a pod each under the
    KubernetesExecutor), or all in one task as local processes ("processes": dag.test()
    runs mapped tasks one after another, so only processes run at the same time)."""
    workers = list(range(settings.tuning_workers))
    return [workers] if settings.tuning_fanout == "processes" else [[w] for w in workers]


def _train_rows(settings: PipelineSettings) -> int:
    with make_engine(settings.data_db_url).connect() as conn:
        return conn.execute(
            sql_text(f"SELECT COUNT(*) FROM {CLEAN_TABLE} WHERE dataset = 'train'")
        ).scalar_one()


def prepare_tuning(settings: PipelineSettings, objective: str, study_name: str) -> list[list[int]]:
    """The shared study of `objective`, planned and enqueued once before any worker starts;
    returns worker_slots()."""
    url = study_lib.storage_url(settings)
    if url is None:
        raise study_lib.SqliteWorkers(
            "the tuning tasks share a study: an in-memory SQLite data database has none"
        )
    study_lib.check_workers(url, settings.tuning_workers)
    plan = plan_tuning(settings, _train_rows(settings), production_run(use_tracking(settings)))
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


def tune_in_workers(settings: PipelineSettings, objective: str, study_name: str) -> dict:
    """The DAG's three steps of one objective in a row (prepare, the workers, the refit and
    its run), for callers without Airflow (pipeline.steps)."""
    for workers in prepare_tuning(settings, objective, study_name):
        run_workers(settings, objective, study_name, workers)
    return train_and_log(settings, objective, study_name, tuned=True)


def _plan_from(study: optuna.Study) -> TuningPlan:
    plan = study.user_attrs[study_lib.PLAN_ATTR]
    return TuningPlan(plan["trials"], 0.0, plan["warm_start"], plan["reason"])


def train_and_log(
    settings: PipelineSettings,
    objective: str,
    study_name: str | None = None,
    tuned: bool = False,
) -> dict:
    """Tunes for `objective` (or, `tuned`, takes the best of the shared study its workers
    filled), logs one MLflow run and registers a version of the model."""
    import mlflow
    import proyecto4_common
    from proyecto4_common.registered_model import (
        BOOSTER_ARTIFACT,
        BOOSTER_FILE,
        ENTRY_FILE,
        SPEC_ARTIFACT,
        input_example,
        pip_requirements,
    )
    from proyecto4_common.registered_model import signature as model_signature

    splits = load_splits(settings)
    client = use_tracking(settings)
    if tuned:
        study = load_study(settings, study_name)
        plan = _plan_from(study)
        fitted, params = (
            _Trials(settings, objective, splits, 0).best_booster(study),
            study.best_params,
        )
    else:
        plan = plan_tuning(settings, len(splits.X["train"]), production_run(client))
        log.info("objective %s: %s", objective, plan.reason)
        fitted, params, study = tune(settings, objective, splits, study_name, plan)
    X, y = splits.X, splits.y
    # Validation chose the trees of `fitted` (train only) and measures it. The same
    # parameters and trees are refit on train and validation: test, days it never saw,
    # measures that model (and compares it with production); the model registered is
    # refit on every row, test days included, and serves the days after them.
    val = scores(fitted, X["validation"], y["validation"])
    rounds = fitted.best_iteration or fitted.current_iteration()
    booster = refit(settings, objective, splits, params, rounds)
    test_probability = probabilities(booster, X["test"])
    test = scores(booster, X["test"], y["test"])
    metrics = {
        VAL_ACCURACY: val["accuracy"],
        VAL_AUROC: val["auroc"],
        TEST_ACCURACY: test["accuracy"],
        TEST_AUROC: test["auroc"],
    }
    # Calibrated on the test days, the newest days the measured model never saw (the served
    # one, with the same parameters and trees, learnt them: it carries this map). The
    # errors before and after are cross-fitted on them.
    calibration = fit_calibration(y["test"], test_probability)
    metrics[TEST_CALIBRATION_ERROR_RAW], metrics[TEST_CALIBRATION_ERROR] = calibration_errors(
        y["test"], test_probability, settings.pipeline_seed
    )
    spec = splits.spec.model_copy(update={"calibration": calibration})
    reference, reference_params = reference_of(settings, splits, spec)
    metrics.update(reference)
    served = refit(settings, objective, splits, params, rounds, SERVED_FIT)
    sample = X["test"].sample(
        n=min(settings.shap_sample_rows, len(X["test"])), random_state=settings.pipeline_seed
    )
    with (
        mlflow.start_run(run_name=f"lightgbm-{objective}") as run,
        tempfile.TemporaryDirectory() as tmp,
    ):
        mlflow.set_tags({"objective": objective, "model_name": MODEL_NAME})
        mlflow.log_params(
            {
                **params,
                "objective": objective,
                "best_iteration": rounds,
                "trials": len(study.trials),
                "trial_budget": plan.trials,
                "tuning_workers": settings.tuning_workers if tuned else 1,
                "warm_start": bool(plan.warm_start),
                "pruned_trials": sum(
                    t.state == optuna.trial.TrialState.PRUNED for t in study.trials
                ),
                "train_rows": len(splits.X["train"]),
                "data_until": splits.data_until,
                "validation_rows": len(splits.X["validation"]),
                "test_rows": len(splits.X["test"]),
                "split": settings.pipeline_split,
                # Validation chose the trees; test_* measure the same parameters and trees
                # fit on train+validation, on days that model never saw; the registered
                # model is fit on every row, so it serves without a 14-day blind spot
                # (test_* are, if anything, a little pessimistic for it).
                "fit_rows": "+".join(SERVED_FIT),
                "test_model_fit_rows": "+".join(MEASURED_FIT),
                **reference_params,
            }
        )
        mlflow.log_metrics(metrics)
        mlflow.log_text(spec.to_json(), FEATURE_SPEC_FILE)
        for artifact, path in _shap_figures(served, sample, Path(tmp)).items():
            mlflow.log_artifact(str(path), artifact_path=str(Path(artifact).parent))
        # The registered model answers raw records: the booster behind its feature spec.
        booster_path, spec_path = Path(tmp) / BOOSTER_FILE, Path(tmp) / FEATURE_SPEC_FILE
        served.save_model(booster_path)
        spec_path.write_text(spec.to_json())
        package = Path(proyecto4_common.__file__).parent
        info = mlflow.pyfunc.log_model(
            name=MODEL_ARTIFACT_PATH,
            python_model=str(package / ENTRY_FILE),
            artifacts={BOOSTER_ARTIFACT: str(booster_path), SPEC_ARTIFACT: str(spec_path)},
            # The package travels with the model, so plain MLflow loads it anywhere.
            code_paths=[str(package)],
            signature=model_signature(spec),
            input_example=input_example(splits.raw_example),
            registered_model_name=MODEL_NAME,
            # Only what loading the model needs; otherwise MLflow exports the whole
            # workspace lock (Airflow included) as the model's environment...
            pip_requirements=pip_requirements(),
            # ... or copies it beside the model (from the working folder), for
            # `--env-manager uv` to restore: a folder without uv.lock turns that off.
            uv_project_path=tmp,
        )
    version = str(info.registered_model_version)
    client.set_model_version_tag(MODEL_NAME, version, "objective", objective)
    log.info("objective %s: version %s %s", objective, version, metrics)
    from pipeline.champion import versus_production

    versus = versus_production(client, splits, booster, settings)
    if versus:
        log.info("objective %s versus production: %s", objective, versus)
    return {
        "objective": objective,
        "run_id": run.info.run_id,
        "version": version,
        "metrics": metrics,
        "versus_production": versus,
        # What log_forward_evaluation refits, should this candidate be promoted.
        "params": params,
        "rounds": rounds,
    }
