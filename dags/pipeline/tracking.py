"""Points MLflow at the tracking server (or the embedded store) and the experiment."""

from __future__ import annotations

from pipeline.settings import PipelineSettings


def use_tracking(settings: PipelineSettings):
    """Sets the tracking URI and experiment for this process; returns an MlflowClient.

    On the embedded defaults (a local database URI) artifacts go under PROYECTO4_HOME
    instead of ./mlruns of whatever folder the command ran in.
    """
    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    uri = settings.mlflow_tracking_uri
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    if client.get_experiment_by_name(settings.mlflow_experiment) is None:
        location = None
        if not uri.startswith(("http://", "https://", "databricks")):
            settings.ensure_home()
            location = settings.mlflow_artifacts_dir.as_uri()
        try:
            client.create_experiment(settings.mlflow_experiment, artifact_location=location)
        except MlflowException:
            # The parallel training task created it first.
            if client.get_experiment_by_name(settings.mlflow_experiment) is None:
                raise
    mlflow.set_experiment(settings.mlflow_experiment)
    return client


def production_version(client):
    """The model version with the `production` alias, or None when there is none yet."""
    from mlflow.exceptions import MlflowException
    from proyecto4_common.names import MODEL_NAME, PRODUCTION_ALIAS

    try:
        return client.get_model_version_by_alias(MODEL_NAME, PRODUCTION_ALIAS)
    except MlflowException:
        return None


def load_run_text(client, run_id: str, path: str) -> str:
    """A text artifact of a run, read through `client` (its tracking URI, not the process's)."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        return Path(client.download_artifacts(run_id, path, tmp)).read_text()
