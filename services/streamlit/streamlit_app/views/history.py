"""Model history: every registered version, its scores and the promotion decisions."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from proyecto4_common.names import MODEL_NAME, RUN_METRICS
from streamlit_app import charts, data_db, states
from streamlit_app.registry import VersionInfo
from streamlit_app.settings import UISettings


def main() -> None:
    settings = UISettings()
    st.title("Model history")
    st.caption(f"Every version of `{MODEL_NAME}` in the MLflow registry, newest first.")
    versions = states.registered_versions(
        settings.mlflow_tracking_uri, settings.ui_request_timeout_s
    )
    if versions is None:
        return

    table = versions_table(versions)
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "created": st.column_config.DatetimeColumn("created (UTC)", format="YYYY-MM-DD HH:mm"),
            **{m: st.column_config.NumberColumn(m, format="%.4f") for m in RUN_METRICS},
        },
    )
    st.subheader("Test scores by version")
    st.altair_chart(charts.metrics_by_version(table), width="stretch")
    show_ledger(settings)


def versions_table(versions: list[VersionInfo]) -> pd.DataFrame:
    rows = [
        {
            "version": v.version,
            "aliases": ", ".join(v.aliases),
            "created": v.created_at,
            "objective": v.objective or "",
            **{m: v.metrics.get(m) for m in RUN_METRICS},
            "promotion": v.promotion or "",
        }
        for v in versions
    ]
    return pd.DataFrame(rows)


def show_ledger(settings: UISettings) -> None:
    st.subheader("Promotion decisions")
    try:
        ledger = data_db.promotion_decisions(settings.data_db_url, settings.ui_request_timeout_s)
    except data_db.DataDbUnavailable as exc:
        states.data_db_down(settings.data_db_url, str(exc))
        return
    if ledger.empty:
        st.info("No promotion has been decided yet; the pipeline's last step records each one.")
        return
    st.dataframe(ledger.drop(columns=["id"]), hide_index=True)


main()
