"""train_model_accuracy / train_model_auroc: the tuned parameters (pipeline/tuning.py) fit on
the forward splits, measured, calibrated and logged to MLflow as a registered model; and the
backtest of the candidate that is about to be promoted (pipeline/champion.py asks for it)."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import lightgbm as lgb
import optuna
import pandas as pd
from proyecto4_common.feature_spec import FeatureSpec
from proyecto4_common.names import (
    BACKTEST_AUROC_MEAN,
    BACKTEST_AUROC_SD,
    BACKTEST_FILE,
    BACKTEST_PLOT,
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
from pipeline.settings import PipelineSettings
from pipeline.splits import Splits, load_splits
from pipeline.tracking import use_tracking
from pipeline.tuning import (
    Trials,
    base_params,
    load_study,
    plan_from,
    plan_tuning,
    prepare_tuning,
    production_run,
    run_workers,
    tune,
)

log = logging.getLogger(__name__)


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
    X, y = splits.rows(parts)
    return lgb.train(
        {**base_params(settings, objective), **params},
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
    full_params = {**base_params(settings, candidate["objective"]), **candidate["params"]}
    rounds = candidate["rounds"]
    run_id = candidate["run_id"]
    X, y = splits.rows(SERVED_FIT)  # every row, as the served model
    metrics: dict[str, float] = {}
    params: dict = {"forward_evaluation": "promoted candidate"}
    with tempfile.TemporaryDirectory() as tmp:
        if splits.days and settings.backtest_folds:
            days = pd.concat([splits.days[n] for n in SERVED_FIT], ignore_index=True)
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


def tune_in_workers(settings: PipelineSettings, objective: str, study_name: str) -> dict:
    """The DAG's three steps of one objective in a row (prepare, the workers, the refit and
    its run), for callers without Airflow (pipeline.steps)."""
    for workers in prepare_tuning(settings, objective, study_name):
        run_workers(settings, objective, study_name, workers)
    return train_and_log(settings, objective, study_name, tuned=True)


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
        plan = plan_from(study)
        fitted, params = (
            Trials(settings, objective, splits, 0).best_booster(study),
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
