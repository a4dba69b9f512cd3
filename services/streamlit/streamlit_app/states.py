"""What a page shows when a part it needs is missing: what happened and what to do."""

from __future__ import annotations

import streamlit as st
from proyecto4_common.names import MODEL_NAME, PRODUCTION_ALIAS
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from streamlit_app.registry import MlflowUnavailable, Registry, VersionInfo


def api_down(url: str, reason: str) -> None:
    st.error(
        f"**The inference API cannot be reached** at `{url}`.\n\n"
        "Start it with `proyecto4 serve api` (or check the `inference-api` pods in the "
        "cluster), or point `INFERENCE_API_URL` at it, then reload this page."
    )
    _details(reason)


def no_model_in_production() -> None:
    st.warning(
        f"**No model is in production yet.** The registry has no `{MODEL_NAME}` version "
        f"with the `{PRODUCTION_ALIAS}` alias.\n\n"
        "Run the pipeline (`proyecto4 pipeline run`, or trigger the `project_pipeline` DAG "
        "in Airflow); it promotes its best model, and the API can then load it."
    )


def no_versions() -> None:
    st.warning(
        f"**No model has been trained yet.** The registry has no `{MODEL_NAME}` version.\n\n"
        "Run the pipeline (`proyecto4 pipeline run`, or trigger the `project_pipeline` DAG "
        "in Airflow); each run registers its models here."
    )


def registered_versions(tracking_uri: str, timeout_s: float) -> list[VersionInfo] | None:
    """The registry's versions, or None once the page has said why there are none."""
    try:
        versions = Registry(tracking_uri, timeout_s).versions()
    except MlflowUnavailable as exc:
        mlflow_down(tracking_uri, str(exc))
        return None
    if not versions:
        no_versions()
        return None
    return versions


def no_model_loaded(reason: str) -> None:
    st.warning(
        "**The inference API is running but serves no model.** "
        f"Ask it to load the `{PRODUCTION_ALIAS}` model with the button below."
    )
    _details(reason)


def mlflow_down(uri: str, reason: str) -> None:
    st.error(
        f"**MLflow cannot be reached** at `{uri}`.\n\n"
        "Start it with `proyecto4 serve mlflow` (or check the `mlflow` pod in the cluster), "
        "or point `MLFLOW_TRACKING_URI` at it, then reload this page."
    )
    _details(reason)


def data_db_down(url: str, reason: str) -> None:
    st.error(
        f"**The data database cannot be read** at `{_safe_url(url)}`.\n\n"
        "Check that it is running and that `DATA_DB_URL` points at it, then reload this page."
    )
    _details(reason)


def _details(reason: str) -> None:
    with st.expander("Details"):
        st.text(reason)


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"
