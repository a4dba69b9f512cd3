"""Model history: every registered version, its scores and the promotion decisions."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from proyecto4_common.names import (
    BACKTEST_AUROC_MEAN,
    BACKTEST_AUROC_SD,
    BACKTEST_PLOT,
    MODEL_NAME,
    RANDOM_SPLIT_TEST_AUROC,
    TEST_ACCURACY,
    TEST_AUROC,
    TEST_CALIBRATION_ERROR,
    TEST_CALIBRATION_ERROR_RAW,
    VAL_ACCURACY,
    VAL_AUROC,
)
from streamlit_app import charts, data_db, monitoring, states, widgets
from streamlit_app.registry import SHOWN_METRICS, ArtifactUnreadable, MlflowUnavailable, VersionInfo
from streamlit_app.settings import UISettings

BACKTEST = "backtest AUROC (mean ± sd)"
LABELS = {
    TEST_AUROC: "test AUROC (forward)",
    RANDOM_SPLIT_TEST_AUROC: "test AUROC (random split)",
    TEST_CALIBRATION_ERROR_RAW: "calibration error before",
    TEST_CALIBRATION_ERROR: "calibration error after",
    TEST_ACCURACY: TEST_ACCURACY,
    VAL_AUROC: VAL_AUROC,
    VAL_ACCURACY: VAL_ACCURACY,
}


def main() -> None:
    settings = UISettings()
    st.title("Model history")
    st.caption(
        f"Every version of `{MODEL_NAME}` in the MLflow registry, newest first. The test AUROC "
        "is measured on the newest days of the training window, which the model did not train "
        "on; the backtest repeats that over the newest weeks (mean ± sd), the quality to expect "
        "live. Where logged, the AUROC a random split of the same days gives stands beside it: "
        "the gap is how much a random split flatters the model. Versions trained before these "
        "figures were logged show what they have."
    )
    versions = states.registered_versions(
        settings.mlflow_tracking_uri, settings.ui_request_timeout_s
    )
    if versions is None:
        return

    table = versions_table(versions)
    shown = ["version", "aliases", "created", "objective", TEST_AUROC, BACKTEST]
    shown += [m for m in LABELS if m not in shown] + ["promotion"]
    st.dataframe(
        table[shown],
        hide_index=True,
        column_config={
            "created": st.column_config.DatetimeColumn("created (UTC)", format="YYYY-MM-DD HH:mm"),
            **{
                m: st.column_config.NumberColumn(label, format="%.4f")
                for m, label in LABELS.items()
            },
        },
    )
    st.subheader("Test scores by version")
    st.altair_chart(charts.metrics_by_version(table), width="stretch")
    show_backtest(settings, versions)
    show_ledger(settings)


def versions_table(versions: list[VersionInfo]) -> pd.DataFrame:
    rows = [
        {
            "version": v.version,
            "aliases": ", ".join(v.aliases),
            "created": v.created_at,
            "objective": v.objective or "",
            **{m: v.metrics.get(m) for m in SHOWN_METRICS},
            BACKTEST: backtest_text(v.metrics),
            "promotion": v.promotion or "",
        }
        for v in versions
    ]
    return pd.DataFrame(rows)


def backtest_text(metrics: dict[str, float]) -> str:
    mean, sd = metrics.get(BACKTEST_AUROC_MEAN), metrics.get(BACKTEST_AUROC_SD)
    if mean is None:
        return ""
    return f"{mean:.4f}" if sd is None else f"{mean:.4f} ± {sd:.4f}"


def show_backtest(settings: UISettings, versions: list[VersionInfo]) -> None:
    st.subheader("Backtest")
    chosen = widgets.version_chooser(versions, key="backtest_version")
    try:
        folds = widgets.backtest_folds(
            settings.mlflow_tracking_uri, settings.ui_request_timeout_s, chosen.run_id
        )
        plot = widgets.artifact(
            settings.mlflow_tracking_uri,
            settings.ui_request_timeout_s,
            chosen.run_id,
            BACKTEST_PLOT,
        )
    except MlflowUnavailable as exc:
        states.mlflow_down(settings.mlflow_tracking_uri, str(exc))
        return
    except ArtifactUnreadable as exc:
        st.warning(f"Version {chosen.version}'s backtest cannot be read: {exc}")
        return
    if folds is None and plot is None:
        st.info(
            f"Version {chosen.version} logged no backtest: it was trained before the pipeline "
            "evaluated models forward in time."
        )
        return
    st.caption(
        "Each fold trains on every day before its week and scores that week (AUROC), with "
        "the chosen parameters; the spread across folds is the week-to-week noise."
    )
    if plot is not None:
        st.image(plot, caption=f"Backtest of version {chosen.version}")
    if folds is not None:
        st.dataframe(
            pd.DataFrame(folds),
            hide_index=True,
            column_config={"auroc": st.column_config.NumberColumn("AUROC", format="%.4f")},
        )


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
    st.caption(
        "comparison: the candidate's AUROC minus production's on the newest days neither "
        "trained on, its 95 % bootstrap interval and the rows (empty for older decisions)."
    )
    st.dataframe(
        ledger.assign(comparison=monitoring.comparison(ledger)).drop(columns=["id"]),
        hide_index=True,
    )


main()
