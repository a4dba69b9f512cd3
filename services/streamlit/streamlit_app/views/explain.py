"""Explainability: the SHAP plots that training logged for a model version."""

from __future__ import annotations

import streamlit as st
from proyecto4_common.names import SHAP_BAR_PLOT, SHAP_SUMMARY_PLOT
from streamlit_app import states, widgets
from streamlit_app.registry import MlflowUnavailable, production
from streamlit_app.settings import UISettings

PLOTS = {
    SHAP_SUMMARY_PLOT: "Each dot is one flight: where a feature's value pushed the prediction "
    "(right = towards a delay), coloured by the value itself.",
    SHAP_BAR_PLOT: "Mean absolute contribution of each feature: how much it matters overall.",
}


def main() -> None:
    settings = UISettings()
    st.title("Explainability")
    versions = states.registered_versions(
        settings.mlflow_tracking_uri, settings.ui_request_timeout_s
    )
    if versions is None:
        return

    chosen = widgets.version_chooser(versions)
    if production(versions) is None:
        st.info("No version is in production yet; showing the newest one.")
    for column, (path, caption) in zip(st.columns(2), PLOTS.items(), strict=True):
        try:
            image = widgets.artifact(
                settings.mlflow_tracking_uri, settings.ui_request_timeout_s, chosen.run_id, path
            )
        except MlflowUnavailable as exc:
            states.mlflow_down(settings.mlflow_tracking_uri, str(exc))
            return
        if image is None:
            column.warning(f"Version {chosen.version} has no `{path}` artifact.")
        else:
            column.image(image, caption=caption)


main()
