"""Training and promotion against a real MLflow server: what every run logs, and the rule
that a worse model never takes `production`."""

from __future__ import annotations

import json
from pathlib import Path

import lightgbm as lgb
import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from pipeline.champion import decide, register_champion
from pipeline.features import FEATURES, LEAKAGE_COLUMNS, encode
from pipeline.spec import categories_of
from proyecto4_common.feature_spec import FeatureSpec
from proyecto4_common.names import (
    BACKTEST_AUROC_MEAN,
    BACKTEST_AUROC_SD,
    BACKTEST_FILE,
    BACKTEST_PLOT,
    MODEL_NAME,
    RANDOM_SPLIT_TEST_AUROC,
    REFERENCE_PSI_SD,
    RUN_METRICS,
    TAG_PROMOTION,
    TEST_CALIBRATION_ERROR,
    TEST_CALIBRATION_ERROR_RAW,
)
from sqlalchemy import create_engine, text


def test_each_run_logs_metrics_params_model_spec_and_shap_plots(trained_model, tmp_path):
    client = MlflowClient(trained_model.tracking_uri)

    assert {r["objective"] for r in trained_model.runs} == {"accuracy", "auroc"}
    for run_info in trained_model.runs:
        run = client.get_run(run_info["run_id"])
        artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
        shap_plots = {a.path for a in client.list_artifacts(run.info.run_id, "shap")}
        version = client.get_model_version(MODEL_NAME, run_info["version"])

        assert set(RUN_METRICS) <= set(run.data.metrics)
        assert all(0.5 < run.data.metrics[m] <= 1 for m in RUN_METRICS)
        assert run.data.params["objective"] == run_info["objective"]
        assert {"learning_rate", "num_leaves", "trials"} <= set(run.data.params)
        assert "feature_spec.json" in artifacts
        assert shap_plots == {"shap/summary.png", "shap/bar.png"}
        assert version.tags["objective"] == run_info["objective"]
        assert TAG_PROMOTION in version.tags
        # Every run: the calibration fitted on the test days and the drift reference.
        metrics, params = run.data.metrics, run.data.params
        assert (params["split"], params["fit_rows"]) == ("forward", "train+validation+test")
        assert params["test_model_fit_rows"] == "train+validation"
        assert 0 <= metrics[TEST_CALIBRATION_ERROR] < 0.2
        assert 0 <= metrics[TEST_CALIBRATION_ERROR_RAW] < 0.2
        assert metrics[REFERENCE_PSI_SD] > 0
        backtested = {a.path for a in client.list_artifacts(run.info.run_id, "backtest")}
        if run_info["version"] != trained_model.version:
            # Kept out: no backtest, no random split (five fits it would never need).
            assert not backtested and BACKTEST_AUROC_MEAN not in metrics
            assert RANDOM_SPLIT_TEST_AUROC not in metrics
            continue
        # The promoted one: the backtest its decay is judged against and the random split's
        # optimism made visible.
        assert params["forward_evaluation"] == "promoted candidate"
        assert 0 < metrics[BACKTEST_AUROC_SD] < 0.2 and 0.5 < metrics[BACKTEST_AUROC_MEAN] < 1
        assert metrics[RANDOM_SPLIT_TEST_AUROC] > metrics["test_auroc"]
        assert backtested == {BACKTEST_FILE, BACKTEST_PLOT}
        path = client.download_artifacts(run.info.run_id, BACKTEST_FILE, str(tmp_path))
        folds = json.loads(Path(path).read_text())
        assert len(folds["folds"]) == int(params["backtest_folds"]) >= 2
        assert folds["mean"] == pytest.approx(metrics[BACKTEST_AUROC_MEAN])


def test_the_model_carries_signature_and_input_example(trained_model, tmp_path):
    mlflow.set_tracking_uri(trained_model.tracking_uri)
    uri = f"models:/{MODEL_NAME}/{trained_model.version}"
    info = mlflow.models.get_model_info(uri)
    model_dir = Path(mlflow.artifacts.download_artifacts(uri, dst_path=str(tmp_path)))
    requirements = (model_dir / "requirements.txt").read_text().split()

    assert info.signature is not None
    assert [c.name for c in info.signature.inputs.inputs] == list(FEATURES)
    types = {c.name: c.type.name for c in info.signature.inputs.inputs}
    assert (types["carrier"], types["month"], types["wind_gust"]) == ("string", "long", "double")
    assert info.saved_input_example_info is not None
    assert info.flavors["python_function"]["loader_module"] == "mlflow.pyfunc.loaders.code_model"
    # The model's own environment: no workspace lock, no Airflow.
    assert not (model_dir / "uv.lock").exists()
    assert {r.split("==")[0] for r in requirements} == {
        "mlflow",
        "cloudpickle",
        "lightgbm",
        "pandas",
        "numpy",
        "pydantic",
    }


def test_the_spec_describes_the_model_inputs_without_leakage(trained_model):
    spec = trained_model.spec
    carrier = spec.feature("carrier")

    assert spec.names == list(FEATURES)
    assert not set(LEAKAGE_COLUMNS) & set(spec.names)
    # Fitted on the test days; monotone, so it reorders nothing.
    assert spec.calibration is not None and spec.calibration.x == sorted(spec.calibration.x)
    assert spec.calibration.y == sorted(spec.calibration.y)
    assert carrier.kind == "categorical" and "UA" in carrier.categories
    assert carrier.labels["UA"] == "United Air Lines Inc."
    assert spec.feature("month").kind == "integer"
    assert all(
        f.reference and abs(sum(f.reference.fractions) - 1) < 1e-6
        for f in spec.features
        if f.name != "wind_gust"
    )


def test_api_encoding_equals_training_encoding(trained_model):
    """The API encodes JSON records with RecordEncoder; the booster was trained on
    pipeline.features.encode: both must give the same matrix and the same predictions."""
    engine = create_engine(trained_model.data_db_url)
    clean = pd.read_sql(text("SELECT * FROM clean_data WHERE dataset = 'test' LIMIT 300"), engine)
    spec = trained_model.spec
    records = json.loads(clean[list(FEATURES)].to_json(orient="records"))

    from_api = spec.encoder().encode(records)
    from_training = encode(clean[list(FEATURES)], categories_of(spec)).to_numpy()
    model = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}/{trained_model.version}")
    booster: lgb.Booster = model.unwrap_python_model().booster

    np.testing.assert_array_equal(np.isnan(from_api), np.isnan(from_training))
    np.testing.assert_allclose(np.nan_to_num(from_api), np.nan_to_num(from_training))
    np.testing.assert_allclose(booster.predict(from_api), booster.predict(from_training))
    # The registered model encodes raw rows itself, as the API does.
    np.testing.assert_allclose(
        model.predict(clean[list(FEATURES)])["probability"],
        booster.predict(from_training),
        rtol=0,
        atol=1e-12,
    )


def _versus(version: str, candidate: float, production: float, low: float | None = None) -> dict:
    """A comparison on the rows neither trained on; `low` is the lower end of the difference's
    interval (default: half the difference, a clear win or loss)."""
    difference = candidate - production
    low = difference / 2 if low is None else low
    return {
        "version": version,
        "since": "2013-02-28",
        "rows": 600,
        "comparisons": {
            kind: {
                "candidate": candidate,
                "production": production,
                "difference": difference,
                "low": low,
                "high": difference + abs(difference) / 2 + 0.01,
            }
            for kind in ("accuracy", "auroc")
        },
    }


@pytest.mark.parametrize(
    ("candidates", "production", "promoted", "winner"),
    [
        ([{"version": "1", "metrics": {"test_auroc": 0.70}}], None, True, "1"),
        (
            [
                {"version": "3", "metrics": {"test_auroc": 0.70}},
                {"version": "4", "metrics": {"test_auroc": 0.75}},
            ],
            ("2", {"test_auroc": 0.74}),
            True,
            "4",
        ),
        (
            [{"version": "3", "metrics": {"test_auroc": 0.70}}],
            ("2", {"test_auroc": 0.74}),
            False,
            "3",
        ),
        (
            [{"version": "3", "metrics": {"test_auroc": 0.74}}],
            ("2", {"test_auroc": 0.74}),
            False,
            "3",
        ),
        # Production's logged 0.80 came from its own (older) test split; on the new rows
        # neither trained on it scores 0.70 and the candidate 0.72: those rows decide.
        (
            [
                {
                    "version": "3",
                    "metrics": {"test_auroc": 0.75},
                    "versus_production": _versus("2", 0.72, 0.70),
                }
            ],
            ("2", {"test_auroc": 0.80}),
            True,
            "3",
        ),
        (
            [
                {
                    "version": "3",
                    "metrics": {"test_auroc": 0.75},
                    "versus_production": _versus("2", 0.72, 0.76),
                }
            ],
            ("2", {"test_auroc": 0.70}),
            False,
            "3",
        ),
        # Higher on the same rows, but within the noise: the interval reaches below 0.
        (
            [
                {
                    "version": "3",
                    "metrics": {"test_auroc": 0.75},
                    "versus_production": _versus("2", 0.72, 0.71, low=-0.004),
                }
            ],
            ("2", {"test_auroc": 0.70}),
            False,
            "3",
        ),
        # Rescored against a version that is no longer production: the logged metric decides.
        (
            [
                {
                    "version": "4",
                    "metrics": {"test_auroc": 0.75},
                    "versus_production": _versus("2", 0.90, 0.70),
                }
            ],
            ("3", {"test_auroc": 0.80}),
            False,
            "4",
        ),
    ],
    ids=[
        "first-model",
        "better-wins",
        "worse-stays-out",
        "tie-stays-out",
        "same-rows-better",
        "same-rows-worse",
        "same-rows-better-by-noise",
        "rescored-stale",
    ],
)
def test_decision_table(candidates, production, promoted, winner):
    decision = decide(candidates, production, "test_auroc")

    assert (decision["promoted"], decision["candidate_version"]) == (promoted, winner)
    versus = candidates[0].get("versus_production")
    if versus and production and versus["version"] == production[0]:
        compared = versus["comparisons"]["auroc"]
        assert decision["candidate_value"] == compared["candidate"]
        assert decision["previous_value"] == compared["production"]
        assert (decision["difference_low"], decision["comparison_rows"]) == (compared["low"], 600)
        assert "test rows after 2013-02-28, which neither trained on" in decision["reason"]
        assert f"[{compared['low']:+.4f}, " in decision["reason"]


def _outcomes(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels drawn from known probabilities, a fair model's probabilities of them, and the
    known ones."""
    rng = np.random.default_rng(seed)
    truth = rng.beta(2, 5, rows)
    y = (rng.random(rows) < truth).astype(int)
    production = np.clip(truth + rng.normal(0, 0.15, rows), 0.001, 0.999)
    return y, production, truth


def _decide_on_rows(y, candidate, production, min_difference=0.0) -> tuple[dict, dict]:
    """The AUROC comparison of two models' probabilities on the same rows, and the decision
    it leads to (the logged metrics say the opposite: the rows must decide)."""
    from pipeline.champion import compare

    compared = compare(y, candidate, production, resamples=500, seed=3)["auroc"]
    versus = {
        "version": "2",
        "since": "2013-02-28",
        "rows": len(y),
        "comparisons": {"auroc": compared},
    }
    logged_candidate = 0.5 if compared["difference"] > 0 else 0.9
    decision = decide(
        [
            {
                "version": "3",
                "metrics": {"test_auroc": logged_candidate},
                "versus_production": versus,
            }
        ],
        ("2", {"test_auroc": 1.4 - logged_candidate}),
        "test_auroc",
        min_difference,
    )
    return compared, decision


def test_a_copy_of_production_better_by_noise_only_is_refused():
    y, production, _ = _outcomes(6000, seed=1)
    # Production with tiny perturbations: a higher AUROC on these rows is luck.
    copy = np.clip(production + np.random.default_rng(2).normal(0, 0.01, len(y)), 0, 1)

    compared, decision = _decide_on_rows(y, copy, production)

    assert compared["low"] < 0 < compared["high"]
    assert abs(compared["difference"]) < 0.005
    assert decision["promoted"] is False, decision["reason"]
    assert "not better beyond the noise" in decision["reason"]


def test_a_clearly_better_candidate_is_promoted():
    y, production, truth = _outcomes(6000, seed=1)
    better = np.clip(truth + np.random.default_rng(4).normal(0, 0.03, len(y)), 0.001, 0.999)

    compared, decision = _decide_on_rows(y, better, production)

    assert compared["difference"] > compared["low"] > 0.01
    assert decision["promoted"] is True, decision["reason"]
    assert decision["difference"] == pytest.approx(compared["difference"])
    # A minimum the gain does not clear keeps it out.
    _, strict = _decide_on_rows(y, better, production, min_difference=compared["high"])
    assert strict["promoted"] is False


def test_unknown_promotion_metric_is_refused():
    with pytest.raises(ValueError, match="promotion metric must be one of"):
        decide([{"version": "1", "metrics": {"x": 1}}], None, "x")


def test_a_worse_model_never_takes_production(trained_model, tmp_path):
    from trained import small_budget

    client = MlflowClient(trained_model.tracking_uri)
    production = client.get_model_version_by_alias(MODEL_NAME, "production")
    current = client.get_run(production.run_id).data.metrics["test_auroc"]
    worse_run = next(r for r in trained_model.runs if r["version"] != production.version)
    settings = small_budget(
        proyecto4_home=tmp_path,
        data_db_url=trained_model.data_db_url,
        mlflow_tracking_uri=trained_model.tracking_uri,
    )

    decision = register_champion(
        settings,
        [{**worse_run, "version": worse_run["version"], "metrics": {"test_auroc": current - 0.1}}],
    )

    assert decision["promoted"] is False
    assert client.get_model_version_by_alias(MODEL_NAME, "production").version == production.version
    with create_engine(trained_model.data_db_url).connect() as conn:
        last = conn.execute(
            text("SELECT promoted, reason FROM promotion_ledger ORDER BY id DESC")
        ).first()
    assert last.promoted is False and "does not beat production" in last.reason
    assert "as logged at its training" in last.reason


def test_spec_round_trips_through_json(trained_model):
    spec = trained_model.spec

    assert FeatureSpec.from_json(spec.to_json()) == spec


def test_tuning_explores_the_space_without_failed_trials(trained_model, tmp_path):
    """Trials share one LightGBM Dataset while changing min_data_in_leaf and friends."""
    import optuna
    from pipeline.splits import load_splits
    from pipeline.tuning import tune
    from trained import small_budget

    settings = small_budget(
        proyecto4_home=tmp_path,
        data_db_url=trained_model.data_db_url,
        optuna_trials=12,
        lightgbm_max_rounds=20,
    )
    booster, params, study = tune(settings, "accuracy", load_splits(settings))

    states = [t.state for t in study.trials]
    assert len(states) == 12
    assert optuna.trial.TrialState.FAIL not in states
    assert booster.num_trees() > 0 and set(params) >= {"num_leaves", "min_data_in_leaf"}


def test_trials_train_on_a_sample_and_the_best_parameters_on_every_row(trained_model, tmp_path):
    from pipeline.splits import load_splits
    from pipeline.tuning import tune, tuning_sample
    from trained import small_budget

    settings = small_budget(
        proyecto4_home=tmp_path,
        data_db_url=trained_model.data_db_url,
        optuna_trials=3,
        lightgbm_max_rounds=30,
        optuna_tuning_rows=500,
    )
    splits = load_splits(settings)
    booster, params, study = tune(settings, "auroc", splits)

    assert {t.user_attrs["train_rows"] for t in study.trials} == {500}
    # The first tree's root holds the rows it was grown from (bagged: a fraction of them).
    root = booster.dump_model(num_iteration=1)["tree_info"][0]["tree_structure"]
    assert root["internal_count"] > 500
    assert params == study.best_trial.params
    sample = tuning_sample(len(splits.y["train"]), 500, seed=1)
    assert len(set(sample)) == 500 and list(sample) == sorted(sample)
    assert tuning_sample(500, 500, seed=1) is None and tuning_sample(10_000, 0, seed=1) is None


# ----- scheduled runs stay cheap: warm start from production, smaller budget ----------------

PRODUCTION_PARAMS = {
    "learning_rate": "0.05",
    "num_leaves": "63",
    "min_data_in_leaf": "40",
    "feature_fraction": "0.9",
    "bagging_fraction": "0.8",
    "lambda_l2": "0.5",
    "objective": "auroc",
    "trials": "25",
}


@pytest.mark.parametrize(
    ("production", "train_rows", "trials", "timeout_s", "warm"),
    [
        (None, 10_000, 25, 240, False),
        (("1", PRODUCTION_PARAMS, 200_000), 201_000, 5, 48, True),
        (("1", PRODUCTION_PARAMS, 200_000), 260_000, 25, 240, True),
        (("1", PRODUCTION_PARAMS, None), 201_000, 25, 240, True),
        (("1", {"learning_rate": "0.05"}, 200_000), 201_000, 5, 48, False),
    ],
    ids=["no-production", "a-day-added", "much-added", "rows-unknown", "params-unreadable"],
)
def test_tuning_plan_table(production, train_rows, trials, timeout_s, warm):
    from pipeline.tuning import ProductionRun, plan_tuning
    from trained import small_budget

    settings = small_budget(
        optuna_trials=25,
        optuna_timeout_s=240,
        optuna_small_update_fraction=0.1,
        optuna_small_update_trials=5,
    )
    plan = plan_tuning(settings, train_rows, ProductionRun(*production) if production else None)

    assert (plan.trials, plan.timeout_s, plan.warm_start is not None) == (trials, timeout_s, warm)
    if warm:
        assert plan.warm_start == {
            "learning_rate": 0.05,
            "num_leaves": 63,
            "min_data_in_leaf": 40,
            "feature_fraction": 0.9,
            "bagging_fraction": 0.8,
            "lambda_l2": 0.5,
        }


def test_logged_params_out_of_the_space_are_clipped_into_it():
    from pipeline.tuning import SEARCH_SPACE, searched_params

    params = searched_params({**PRODUCTION_PARAMS, "num_leaves": "4000", "learning_rate": "0.001"})

    assert params["num_leaves"] == SEARCH_SPACE["num_leaves"][2]
    assert params["learning_rate"] == SEARCH_SPACE["learning_rate"][1]


def test_a_next_run_starts_from_production_params_with_a_smaller_budget(trained_model, tmp_path):
    """On the data production was trained on (no rows added), tuning enqueues production's
    own parameters as its first trial and runs the small budget only."""
    from pipeline.splits import load_splits
    from pipeline.tuning import plan_tuning, production_run, tune
    from trained import small_budget

    settings = small_budget(
        proyecto4_home=tmp_path,
        data_db_url=trained_model.data_db_url,
        mlflow_tracking_uri=trained_model.tracking_uri,
        optuna_trials=12,
        optuna_small_update_trials=2,
        lightgbm_max_rounds=20,
    )
    client = MlflowClient(trained_model.tracking_uri)
    logged = client.get_run(
        client.get_model_version_by_alias(MODEL_NAME, "production").run_id
    ).data.params
    splits = load_splits(settings)

    production = production_run(client)
    plan = plan_tuning(settings, len(splits.X["train"]), production)
    _, _, study = tune(settings, "auroc", splits, plan=plan)

    assert production.version == trained_model.version
    assert production.train_rows == len(splits.X["train"]) == int(logged["train_rows"])
    assert plan.trials == 2 and plan.timeout_s == pytest.approx(settings.optuna_timeout_s * 2 / 12)
    assert len(study.trials) == 2
    first = study.trials[0].params
    assert first.keys() == plan.warm_start.keys()
    assert all(first[k] == pytest.approx(float(logged[k])) for k in first)


def test_a_backtest_fold_never_sees_its_own_week(trained_model):
    """Rows of the fold's week carry their own day_of_month values and the opposite rule:
    a model that trained on them would learn it (AUROC near 1); one trained only on the
    days before predicts the old rule (AUROC near 0)."""
    from pipeline.evaluation import backtest

    rng = np.random.default_rng(0)
    days = pd.Series(np.repeat(pd.date_range("2013-03-01", periods=28), 200))
    X = pd.DataFrame({name: rng.integers(0, 3, len(days)).astype(float) for name in FEATURES})
    X["temp"] = rng.random(len(days))
    X["day_of_month"] = days.dt.day.astype(float)
    newest_week = (days >= "2013-03-22").to_numpy()
    y = np.where(newest_week, X["temp"] < 0.5, X["temp"] > 0.5).astype(int)
    params = {"objective": "binary", "verbosity": -1, "num_threads": 1, "min_data_in_leaf": 20}

    result = backtest(X, y, days, trained_model.spec, params, 50, folds=2, fold_days=7)

    [newest, before] = result.folds
    assert (str(newest.start), str(newest.end)) == ("2013-03-22", "2013-03-28")
    assert (str(before.start), str(before.end)) == ("2013-03-15", "2013-03-21")
    assert newest.train_rows == 21 * 200 and newest.rows == 7 * 200
    assert before.train_rows == 14 * 200
    assert newest.auroc < 0.1 < 0.9 < before.auroc


def test_calibration_fixes_overconfidence_and_keeps_the_ranking():
    from pipeline.evaluation import calibration_errors, fit_calibration
    from sklearn.metrics import roc_auc_score

    y, _, truth = _outcomes(20_000, seed=5)
    # An overconfident model: the right ranking, log-odds stretched twice.
    odds = np.log(truth / (1 - truth))
    overconfident = 1 / (1 + np.exp(-(2 * odds + 0.5)))

    calibration = fit_calibration(y, overconfident)
    before, after = calibration_errors(y, overconfident, seed=0)

    assert calibration.method == "sigmoid"
    assert after < before / 3
    assert roc_auc_score(y, calibration.apply(overconfident)) == pytest.approx(
        roc_auc_score(y, overconfident), abs=1e-4
    )


def test_every_bootstrap_resample_is_scored_as_scikit_learn_scores_it():
    """The comparison scores all resamples at once (counts per row); each must be the
    score roc_auc_score and a weighted accuracy give that resample, ties included."""
    from pipeline.champion import resampled_scores
    from sklearn.metrics import roc_auc_score

    y, production, _ = _outcomes(3000, seed=5)
    tied = np.round(production, 2)  # many equal probabilities
    rng = np.random.default_rng(6)
    counts = rng.multinomial(len(y), np.full(len(y), 1 / len(y)), size=4)

    aurocs = resampled_scores("auroc", y, tied, counts)
    accuracies = resampled_scores("accuracy", y, tied, counts)

    for row, auroc, accuracy in zip(counts, aurocs, accuracies, strict=True):
        assert auroc == pytest.approx(roc_auc_score(y, tied, sample_weight=row), abs=1e-12)
        assert accuracy == pytest.approx(np.average((tied >= 0.5) == y, weights=row), abs=1e-12)
    # A resample without a negative has no AUROC.
    assert np.isnan(resampled_scores("auroc", y, tied, (y == 1).astype(int))[0])
