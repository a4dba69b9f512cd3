"""`proyecto4 pipeline run`'s closing report says what this run decided: the promotion
ledger's newest row, written by the pipeline's own register_champion, not the production
version's tag (which still tells of the older promotion when this run's candidate lost)."""

from __future__ import annotations

from datetime import timedelta

from proyecto4_common.names import MODEL_NAME, TAG_PROMOTION, TEST_AUROC
from trained import small_budget


def candidate(client, test_auroc: float) -> dict:
    """A model version whose run logged `test_auroc` (no model files: the decision reads
    the metrics only)."""
    experiment = client.create_experiment(f"report-{test_auroc}")
    run = client.create_run(experiment)
    client.log_metric(run.info.run_id, TEST_AUROC, test_auroc)
    client.set_terminated(run.info.run_id)
    version = client.create_model_version(
        MODEL_NAME, f"{run.info.artifact_uri}/model", run.info.run_id
    )
    return {"version": str(version.version), "metrics": {TEST_AUROC: test_auroc}}


def test_a_run_whose_candidate_was_kept_out_reports_it_was_kept_out(postgres_db, tmp_path):
    from mlflow import MlflowClient
    from pipeline.champion import register_champion
    from proyecto4.report import pipeline_summary

    settings = small_budget(
        proyecto4_home=tmp_path,
        data_db_url=postgres_db,
        mlflow_tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
    )
    client = MlflowClient(settings.mlflow_tracking_uri)
    client.create_registered_model(MODEL_NAME)

    first = register_champion(settings, [candidate(client, 0.80)])
    after_first = pipeline_summary(settings)
    second = register_champion(settings, [candidate(client, 0.70)])
    after_second = pipeline_summary(settings)
    production_tag = client.get_model_version(MODEL_NAME, "1").tags[TAG_PROMOTION]

    assert (first["promoted"], second["promoted"]) == (True, False)
    assert after_first.last_decision == f"v1 promoted: {first['reason']}"
    assert after_second.production_version == "1"
    assert after_second.last_decision == f"v2 kept out: {second['reason']}"
    assert production_tag.startswith("promoted:")
    assert f"last decision: v2 kept out: {second['reason']}" in after_second.render(
        "success", timedelta(seconds=3)
    )
