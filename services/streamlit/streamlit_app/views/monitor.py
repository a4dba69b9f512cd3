"""Monitoring: what the API served recently (inference_log) and how right it was once the
flights' outcomes arrived (model_quality, written by the pipeline)."""

from __future__ import annotations

import streamlit as st
from streamlit_app import charts, data_db, monitoring, states
from streamlit_app.settings import UISettings


def main() -> None:
    settings = UISettings()
    st.title("Monitoring")
    st.caption(
        f"The latest {settings.ui_monitoring_rows:,} predictions the inference API logged. "
        "Request rates and latency histograms live in Grafana."
    )
    try:
        log = data_db.recent_predictions(
            settings.data_db_url, settings.ui_monitoring_rows, settings.ui_request_timeout_s
        )
    except data_db.DataDbUnavailable as exc:
        states.data_db_down(settings.data_db_url, str(exc))
        return
    if log.empty:
        st.info(
            "No prediction has been logged yet. Make one on the Predict page, or run "
            "`proyecto4 loadtest`, and come back."
        )
        return

    summary = monitoring.summarize(log)
    cells = st.columns(4)
    cells[0].metric("Predictions", f"{summary.predictions:,}")
    cells[1].metric("Predicted delayed", f"{summary.share_delayed:.1%}")
    cells[2].metric("Median latency", f"{summary.p50_ms:.1f} ms")
    cells[3].metric("95th percentile latency", f"{summary.p95_ms:.1f} ms")
    st.caption(
        f"From {summary.first:%Y-%m-%d %H:%M} to {summary.last:%Y-%m-%d %H:%M} UTC, "
        f"model version(s) {', '.join(summary.versions)}."
    )

    freq, word = monitoring.bucket_size(log)
    buckets = monitoring.by_bucket(log, freq)
    st.subheader(f"Volume (predictions per {word})")
    st.altair_chart(charts.over_time(buckets, "predictions", "predictions"), width="stretch")
    st.subheader("Share predicted delayed")
    st.altair_chart(
        charts.over_time(buckets, "share_delayed", "delayed", share=True), width="stretch"
    )
    st.subheader("Latency")
    st.altair_chart(charts.latency(buckets), width="stretch")
    st.subheader("Latest predictions")
    st.dataframe(log.tail(20).iloc[::-1], hide_index=True)
    show_live_quality(settings)


def show_live_quality(settings: UISettings) -> None:
    st.subheader("Live quality (delayed outcomes)")
    try:
        quality = data_db.live_quality(settings.data_db_url, settings.ui_request_timeout_s)
        ledger = data_db.promotion_decisions(settings.data_db_url, settings.ui_request_timeout_s)
    except data_db.DataDbUnavailable as exc:
        states.data_db_down(settings.data_db_url, str(exc))
        return
    if quality.empty:
        st.info(
            "No live quality yet: it needs predictions sent with a flight key (see "
            "`proyecto4 replay`) and a pipeline run that ingests those flights' outcomes."
        )
        return
    st.caption(
        "Per flight day and model version, once the day's outcomes were ingested: the realized "
        "live AUROC with its 95 % interval (the band), the AUROC estimated from the served "
        "probabilities alone (CBPE, available before the outcomes), and the version's backtest "
        "at training: its mean, the quality to expect, and the band's lower edge, below which "
        "the pipeline counts the model as decayed. Days before these figures were recorded "
        "show the realized AUROC only."
    )
    st.dataframe(monitoring.newest_quality(quality), hide_index=True)
    st.altair_chart(charts.live_auroc(quality), width="stretch")
    st.dataframe(quality.tail(20).iloc[::-1], hide_index=True)
    retrains = ledger.dropna(subset=["trigger"])
    if not retrains.empty:
        st.subheader("Retraining triggers")
        st.caption(
            "comparison: the candidate's AUROC minus production's on the newest days neither "
            "trained on, its 95 % bootstrap interval and the rows it was measured on (empty for "
            "decisions made before the comparison was recorded)."
        )
        st.dataframe(
            retrains.assign(comparison=monitoring.comparison(retrains))[
                [
                    "decided_at",
                    "trigger_kind",
                    "trigger",
                    "previous_version",
                    "previous_live_auroc",
                    "candidate_version",
                    "promoted",
                    "comparison",
                    "reason",
                ]
            ],
            hide_index=True,
        )


main()
