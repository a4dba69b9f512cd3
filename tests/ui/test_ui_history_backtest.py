"""Model history shows the forward evaluation a run logged (backtest, random-split AUROC,
calibration) and still renders a run from before it, against a real MLflow server."""

from __future__ import annotations

import io
import json
import posixpath

import matplotlib
import pytest
from mlflow import MlflowClient
from proyecto4_common.names import (
    BACKTEST_AUROC_MEAN,
    BACKTEST_AUROC_SD,
    BACKTEST_FILE,
    BACKTEST_PLOT,
    MODEL_NAME,
    PRODUCTION_ALIAS,
    RANDOM_SPLIT_TEST_AUROC,
    TEST_ACCURACY,
    TEST_AUROC,
    TEST_CALIBRATION_ERROR,
    TEST_CALIBRATION_ERROR_RAW,
)
from servers import mlflow_server

matplotlib.use("Agg")

FOLDS = [
    {"start": "2013-03-04", "end": "2013-03-10", "train_rows": 40000, "rows": 6300, "auroc": 0.69},
    {"start": "2013-03-11", "end": "2013-03-17", "train_rows": 46300, "rows": 6200, "auroc": 0.71},
]


def png() -> bytes:
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(2, 1))
    axes.plot([f["auroc"] for f in FOLDS])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory):
    """v1 logged before the forward evaluation (scores only); v2, in production, with the
    backtest metrics and artifacts and the random-split and calibration figures."""
    root = tmp_path_factory.mktemp("mlflow-history")
    with mlflow_server(f"sqlite:///{root / 'mlflow.db'}", root / "artifacts") as url:
        client = MlflowClient(url)
        experiment = client.create_experiment("history")
        client.create_registered_model(MODEL_NAME)
        logged = [
            {TEST_AUROC: 0.79, TEST_ACCURACY: 0.80},
            {
                TEST_AUROC: 0.72,
                TEST_ACCURACY: 0.78,
                BACKTEST_AUROC_MEAN: 0.702,
                BACKTEST_AUROC_SD: 0.015,
                RANDOM_SPLIT_TEST_AUROC: 0.81,
                TEST_CALIBRATION_ERROR_RAW: 0.041,
                TEST_CALIBRATION_ERROR: 0.012,
            },
        ]
        for number, metrics in enumerate(logged, start=1):
            run = client.create_run(experiment).info
            for name, value in metrics.items():
                client.log_metric(run.run_id, name, value)
            if number == 2:
                files = {
                    BACKTEST_FILE: json.dumps(
                        {"folds": FOLDS, "mean": 0.70, "sd": 0.0141}
                    ).encode(),
                    BACKTEST_PLOT: png(),
                }
                for path, content in files.items():
                    local = root / posixpath.basename(path)
                    local.write_bytes(content)
                    client.log_artifact(run.run_id, str(local), posixpath.dirname(path))
            client.set_terminated(run.run_id)
            client.create_model_version(MODEL_NAME, f"{run.artifact_uri}/model", run.run_id)
        client.set_registered_model_alias(MODEL_NAME, PRODUCTION_ALIAS, "2")
        yield url


def test_history_shows_backtest_random_split_and_calibration_beside_the_forward_auroc(
    ui_env, run_page, two_versions, postgres_db
):
    ui_env(mlflow=two_versions, db=postgres_db)

    at = run_page("history")

    assert not at.exception
    assert not at.error and not at.warning
    versions = at.dataframe[0].value.set_index("version")
    new, old = versions.loc[2], versions.loc[1]
    assert new[TEST_AUROC] == pytest.approx(0.72)
    assert new["backtest AUROC (mean ± sd)"] == "0.7020 ± 0.0150"
    assert new[RANDOM_SPLIT_TEST_AUROC] == pytest.approx(0.81)
    assert new[TEST_CALIBRATION_ERROR_RAW] == pytest.approx(0.041)
    assert new[TEST_CALIBRATION_ERROR] == pytest.approx(0.012)
    # The old run has its test AUROC only; the rest stays empty.
    assert old[TEST_AUROC] == pytest.approx(0.79)
    assert old["backtest AUROC (mean ± sd)"] == ""
    assert old[[RANDOM_SPLIT_TEST_AUROC, TEST_CALIBRATION_ERROR]].isna().all()

    # The production version's backtest: its plot and its folds.
    assert at.selectbox[0].value == 2
    [plot] = at.image
    assert plot.captions == ["Backtest of version 2"]
    folds = at.dataframe[1].value
    assert folds["auroc"].tolist() == [0.69, 0.71]
    assert folds["start"].tolist() == ["2013-03-04", "2013-03-11"]


def test_history_says_an_older_version_logged_no_backtest(
    ui_env, run_page, two_versions, postgres_db
):
    ui_env(mlflow=two_versions, db=postgres_db)
    at = run_page("history")

    at.selectbox[0].set_value(1).run()

    assert not at.exception
    assert not at.error and not at.warning
    assert not at.image
    assert any("Version 1 logged no backtest" in i.value for i in at.info)


def test_the_history_chart_draws_the_backtest_spread_and_the_random_split_auroc(
    ui_env, run_page, two_versions, postgres_db
):
    ui_env(mlflow=two_versions, db=postgres_db)
    at = run_page("history")

    [chart] = at.get("vega_lite_chart")
    spec = json.loads(chart.proto.spec)
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["line", "rule"]
    domain = spec["layer"][0]["encoding"]["color"]["scale"]["domain"]
    assert "test AUROC (random split)" in domain
    assert "backtest AUROC (mean ± sd)" in domain
