"""Altair charts of the pages, built from plain data (no Streamlit here)."""

from __future__ import annotations

import altair as alt
import pandas as pd
from proyecto4_common.names import CATEGORIES, TEST_ACCURACY, TEST_AUROC

DELAYED = CATEGORIES[1]
ON_TIME = CATEGORIES[0]
COLORS = alt.Scale(domain=[ON_TIME, DELAYED], range=["#2e7d32", "#c62828"])


def probability(p_delayed: float) -> alt.Chart:
    """Two bars: the probability of each category."""
    data = pd.DataFrame({"category": [ON_TIME, DELAYED], "probability": [1 - p_delayed, p_delayed]})
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(
                "probability:Q",
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%", tickCount=5),
            ),
            y=alt.Y("category:N", sort=[ON_TIME, DELAYED], title=None),
            color=alt.Color("category:N", scale=COLORS, legend=None),
            tooltip=["category", alt.Tooltip("probability:Q", format=".1%")],
        )
    )
    text = bars.mark_text(align="left", dx=4).encode(text=alt.Text("probability:Q", format=".1%"))
    return (bars + text).properties(height=110)


def contributions(items: list[tuple[str, float]]) -> alt.Chart:
    """Horizontal bars of (label, contribution), largest effect on top."""
    data = pd.DataFrame(items, columns=["feature", "contribution"])
    data["effect"] = [DELAYED if v > 0 else ON_TIME for v in data["contribution"]]
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("contribution:Q", title="contribution to the log-odds of a delay"),
            y=alt.Y("feature:N", sort=None, title=None, axis=alt.Axis(labelLimit=320)),
            color=alt.Color(
                "effect:N", scale=COLORS, legend=alt.Legend(title="pushes towards", orient="bottom")
            ),
            tooltip=["feature", alt.Tooltip("contribution:Q", format="+.3f")],
        )
        .properties(height=alt.Step(24))
    )


def metrics_by_version(frame: pd.DataFrame) -> alt.Chart:
    """Test AUROC and accuracy of each version (frame: version + metric columns)."""
    present = [m for m in (TEST_AUROC, TEST_ACCURACY) if m in frame]
    long = frame.melt(id_vars="version", value_vars=present, var_name="metric").dropna()
    return (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("version:O", title="model version", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", scale=alt.Scale(zero=False), title="test score"),
            color=alt.Color("metric:N", legend=alt.Legend(orient="bottom")),
            tooltip=["version", "metric", alt.Tooltip("value:Q", format=".4f")],
        )
        .properties(height=280)
    )


def over_time(frame: pd.DataFrame, column: str, title: str, share: bool = False) -> alt.Chart:
    """A line of one column of a time-bucketed frame (index `bucket`); shares run 0-100 %."""
    fmt = ".0%" if share else ""
    axis = alt.Axis(format=fmt) if share else alt.Axis()
    scale = alt.Scale(domain=[0, 1]) if share else alt.Scale()
    return (
        alt.Chart(frame.reset_index())
        .mark_line(point=True)
        .encode(
            x=alt.X("bucket:T", title=None),
            y=alt.Y(f"{column}:Q", title=title, axis=axis, scale=scale),
            tooltip=[
                alt.Tooltip("bucket:T", format="%Y-%m-%d %H:%M"),
                alt.Tooltip(f"{column}:Q", format=fmt or ".2f"),
            ],
        )
        .properties(height=220)
    )


def latency(frame: pd.DataFrame) -> alt.Chart:
    """Median and 95th percentile latency per bucket (columns p50_ms, p95_ms)."""
    named = frame.rename(columns={"p50_ms": "median", "p95_ms": "95th percentile"})
    long = named.reset_index().melt(
        id_vars="bucket", value_vars=["median", "95th percentile"], var_name="quantile"
    )
    return (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("bucket:T", title=None),
            y=alt.Y("value:Q", title="latency (ms)"),
            color=alt.Color("quantile:N", legend=alt.Legend(orient="bottom")),
            tooltip=[
                alt.Tooltip("bucket:T", format="%Y-%m-%d %H:%M"),
                "quantile",
                alt.Tooltip("value:Q", format=".1f"),
            ],
        )
        .properties(height=220)
    )


def live_auroc(quality: pd.DataFrame) -> alt.Chart:
    """Live AUROC per day (solid) and test AUROC (dashed), one color per model version."""
    long = (
        quality.assign(version="v" + quality["model_version"].astype(str))
        .melt(id_vars=["day", "version"], value_vars=["auroc", "test_auroc"], var_name="kind")
        .dropna()
    )
    long["kind"] = long["kind"].map({"auroc": "live", "test_auroc": "test (training)"})
    return (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("day:T", title="flight day"),
            y=alt.Y("value:Q", scale=alt.Scale(zero=False), title="AUROC"),
            color=alt.Color("version:N", legend=alt.Legend(orient="bottom")),
            strokeDash=alt.StrokeDash("kind:N", legend=alt.Legend(orient="bottom")),
            tooltip=[
                "version",
                "kind",
                alt.Tooltip("day:T", format="%Y-%m-%d"),
                alt.Tooltip("value:Q", format=".4f"),
            ],
        )
        .properties(height=280)
    )
