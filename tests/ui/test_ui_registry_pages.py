"""Model history and Explainability against the real MLflow server the pipeline wrote to."""

from __future__ import annotations

from mlflow import MlflowClient
from proyecto4_common.names import MODEL_NAME, SHAP_BAR_PLOT, SHAP_SUMMARY_PLOT
from streamlit_app.registry import Registry


def registered_versions(tracking_uri: str) -> list[str]:
    found = MlflowClient(tracking_uri).search_model_versions(f"name='{MODEL_NAME}'")
    return sorted((v.version for v in found), key=int, reverse=True)


def test_history_lists_every_version_with_aliases_objective_and_metrics(
    ui_env, run_page, trained_model
):
    ui_env(mlflow=trained_model.tracking_uri, db=trained_model.data_db_url)
    at = run_page("history")
    assert not at.exception
    assert not at.error
    # The ledger comes last: a model with a backtest puts its folds table in between.
    versions, ledger = at.dataframe[0].value, at.dataframe[-1].value
    assert [str(v) for v in versions["version"]] == registered_versions(trained_model.tracking_uri)
    production = versions[versions["version"] == int(trained_model.version)].iloc[0]
    assert production["aliases"] == "production"
    assert production["objective"] in ("accuracy", "auroc")
    assert 0 <= production["test_auroc"] <= 1
    assert 0 <= production["test_accuracy"] <= 1
    assert production["promotion"] != ""
    assert "Test scores by version" in [s.value for s in at.subheader]
    # The promotion ledger comes from the data DB the pipeline wrote it to.
    assert trained_model.version in ledger["candidate_version"].astype(str).tolist()


def test_explainability_shows_both_shap_plots_of_the_production_model(
    ui_env, run_page, trained_model
):
    ui_env(mlflow=trained_model.tracking_uri)
    at = run_page("explain")
    assert not at.exception
    assert not at.error and not at.warning
    [chooser] = at.selectbox
    assert chooser.value == int(trained_model.version)
    assert "(production)" in chooser.format_func(chooser.value)
    captions = [caption for image in at.image for caption in image.captions]
    assert len(captions) == 2
    assert captions[0].startswith("Each dot is one flight")


def test_explainability_shows_any_version_picked(ui_env, run_page, trained_model):
    ui_env(mlflow=trained_model.tracking_uri)
    at = run_page("explain")
    other = next(
        v for v in registered_versions(trained_model.tracking_uri) if v != trained_model.version
    )
    at.selectbox[0].set_value(int(other)).run()
    assert not at.exception
    assert not at.error and not at.warning
    assert at.selectbox[0].value == int(other)
    assert len(at.image) == 2


def test_registry_downloads_the_shap_plots_as_png(trained_model):
    registry = Registry(trained_model.tracking_uri, timeout_s=30)
    [production] = [v for v in registry.versions() if v.in_production]
    for path in (SHAP_SUMMARY_PLOT, SHAP_BAR_PLOT):
        assert registry.artifact(production.run_id, path).startswith(b"\x89PNG")
    assert registry.artifact(production.run_id, "shap/none.png") is None
