"""What a page shows when a part it needs is missing: what happened and what to do."""

from __future__ import annotations

import streamlit as st
from proyecto4_common.database import shown_url
from proyecto4_common.names import MODEL_NAME, PRODUCTION_ALIAS

from streamlit_app.registry import MlflowUnavailable, Registry, VersionInfo


def api_down(url: str, reason: str) -> None:
    st.error(
        f"**The inference API cannot be reached** at `{url}`.\n\n"
        "Start it with `proyecto4 serve api` (or check the `inference-api` pods in the "
        "cluster), or point `INFERENCE_API_URL` at it, then reload this page."
    )
    _details(reason)


# Where the first model comes from, for the pages that wait for it.
_FIRST_RUN = (
    "The pipeline's first run trains and promotes one: in the cluster it starts at install "
    "(watch the `project_pipeline` DAG in Airflow), locally run `proyecto4 pipeline run`. "
    "Reload this page once it has finished."
)


def no_model_in_production() -> None:
    # A fresh platform, not a fault: said as information, not as an error.
    st.info(
        f"**Waiting for the first model.** No `{MODEL_NAME}` version has the "
        f"`{PRODUCTION_ALIAS}` alias yet.\n\n{_FIRST_RUN}"
    )


def no_versions() -> None:
    st.info(
        f"**Waiting for the first model.** The registry has no `{MODEL_NAME}` version yet.\n\n"
        f"{_FIRST_RUN}"
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


def no_model_loaded(reason: str, can_load: bool) -> None:
    if can_load:
        action = f"Ask it to load the `{PRODUCTION_ALIAS}` model with the button below."
    else:
        # Loading changes which model decides: only an operator holding the admin token may.
        action = (
            f"An operator loads the `{PRODUCTION_ALIAS}` model with the API's admin token: "
            "`curl -X POST -H 'Authorization: Bearer <admin token>' "
            "<inference API>/load_model/` (in the cluster, `helm get notes <release>` says how "
            "to read the token). Reload this page afterwards."
        )
    st.warning(f"**The inference API is running but serves no model.** {action}")
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
        f"**The data database cannot be read** at `{shown_url(url)}`.\n\n"
        "Check that it is running and that `DATA_DB_URL` points at it, then reload this page."
    )
    _details(reason)


def _details(reason: str) -> None:
    with st.expander("Details"):
        st.text(reason)
