"""Altair charts of the pages, built from plain data (no Streamlit here)."""

from __future__ import annotations

import altair as alt
import pandas as pd
from proyecto4_common.names import (
    BACKTEST_AUROC_MEAN,
    BACKTEST_AUROC_SD,
    CATEGORIES,
    RANDOM_SPLIT_TEST_AUROC,
    TEST_ACCURACY,
    TEST_AUROC,
)

DELAYED = CATEGORIES[1]
ON_TIME = CATEGORIES[0]
COLORS = alt.Scale(domain=[ON_TIME, DELAYED], range=["#2e7d32", "#c62828"])

# Vega's default time labels are 12-hour without AM/PM ("03:45" for 15:45) and in the
# browser's zone; the data is UTC, so the axes say UTC and count 24 hours.
TIME_TITLE = "time (UTC)"
TIME_LABELS = (
    "utcFormat(datum.value, utchours(datum.value) == 0 && utcminutes(datum.value) == 0"
    " && utcseconds(datum.value) == 0 ? '%Y-%m-%d' : utcseconds(datum.value) == 0"
    " ? '%H:%M' : '%H:%M:%S')"
)


def time_x(field: str, title: str = TIME_TITLE) -> alt.X:
    """A UTC time axis with 24-hour labels (a date at midnight)."""
    return alt.X(
        f"{field}:T",
        title=title,
        scale=alt.Scale(type="utc"),
        axis=alt.Axis(labelExpr=TIME_LABELS, labelOverlap=True),
    )


def time_tooltip(field: str, fmt: str = "%Y-%m-%d %H:%M") -> alt.Tooltip:
    return alt.Tooltip(f"{field}:T", format=fmt, formatType="utc", title=f"{field} (UTC)")


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
    """Per version: forward test AUROC, the backtest mean with its ± sd bar, the random-split
    test AUROC where logged (the gap to the forward figure is the random split's optimism),
    and test accuracy (frame: version + metric columns)."""
    names = {
        TEST_AUROC: "test AUROC (forward)",
        BACKTEST_AUROC_MEAN: "backtest AUROC (mean ± sd)",
        RANDOM_SPLIT_TEST_AUROC: "test AUROC (random split)",
        TEST_ACCURACY: "test accuracy",
    }
    present = [m for m in names if m in frame]
    long = frame.melt(id_vars="version", value_vars=present, var_name="metric").dropna()
    long["metric"] = long["metric"].map(names)
    color = alt.Color(
        "metric:N", scale=alt.Scale(domain=list(names.values())), legend=alt.Legend(orient="bottom")
    )
    x = alt.X("version:O", title="model version", axis=alt.Axis(labelAngle=0))
    lines = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=x,
            y=alt.Y("value:Q", scale=alt.Scale(zero=False), title="score"),
            color=color,
            tooltip=["version", "metric", alt.Tooltip("value:Q", format=".4f")],
        )
    )
    layers = [lines]
    if {BACKTEST_AUROC_MEAN, BACKTEST_AUROC_SD} <= set(frame):
        spread = frame[["version", BACKTEST_AUROC_MEAN, BACKTEST_AUROC_SD]].dropna()
        if not spread.empty:
            spread = spread.assign(
                low=spread[BACKTEST_AUROC_MEAN] - spread[BACKTEST_AUROC_SD],
                high=spread[BACKTEST_AUROC_MEAN] + spread[BACKTEST_AUROC_SD],
                metric=names[BACKTEST_AUROC_MEAN],
            )
            layers.append(
                alt.Chart(spread)
                .mark_rule(strokeWidth=2)
                .encode(x=x, y="low:Q", y2="high:Q", color=color)
            )
    return alt.layer(*layers).properties(height=280)


def over_time(frame: pd.DataFrame, column: str, title: str, share: bool = False) -> alt.Chart:
    """A line of one column of a time-bucketed frame (index `bucket`); shares run 0-100 %."""
    fmt = ".0%" if share else ""
    axis = alt.Axis(format=fmt) if share else alt.Axis()
    scale = alt.Scale(domain=[0, 1]) if share else alt.Scale()
    return (
        alt.Chart(frame.reset_index())
        .mark_line(point=True)
        .encode(
            x=time_x("bucket"),
            y=alt.Y(f"{column}:Q", title=title, axis=axis, scale=scale),
            tooltip=[
                time_tooltip("bucket"),
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
            x=time_x("bucket"),
            y=alt.Y("value:Q", title="latency (ms)"),
            color=alt.Color("quantile:N", legend=alt.Legend(orient="bottom")),
            tooltip=[
                time_tooltip("bucket"),
                "quantile",
                alt.Tooltip("value:Q", format=".1f"),
            ],
        )
        .properties(height=220)
    )


# How each figure of the live-quality chart is drawn: realized solid, the estimate dashed,
# the backtest's references thin and dotted.
QUALITY_FIGURES = {
    "auroc": ("realized", []),
    "estimated_auroc": ("estimated (CBPE)", [6, 3]),
    "backtest_auroc": ("backtest mean", [2, 2]),
    "backtest_auroc_low": ("decay threshold (backtest band)", [1, 4]),
}


def live_auroc(quality: pd.DataFrame) -> alt.Chart:
    """Per day and model version (one color each): realized live AUROC with its 95 % interval
    as a band, the AUROC estimated from the probabilities (CBPE), and the version's backtest
    mean and band lower edge as references. Rows of older releases lack all but `auroc`."""
    frame = quality.assign(version="v" + quality["model_version"].astype(str))
    present = [c for c in QUALITY_FIGURES if c in frame]
    long = frame.melt(id_vars=["day", "version"], value_vars=present, var_name="figure").dropna()
    long["figure"] = long["figure"].map(lambda c: QUALITY_FIGURES[c][0])
    figures = [name for name, _ in QUALITY_FIGURES.values()]
    dashes = [dash for _, dash in QUALITY_FIGURES.values()]
    x = time_x("day", title="flight day (UTC)")
    color = alt.Color("version:N", legend=alt.Legend(orient="bottom"))
    lines = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=x,
            y=alt.Y("value:Q", scale=alt.Scale(zero=False), title="AUROC"),
            color=color,
            strokeDash=alt.StrokeDash(
                "figure:N",
                scale=alt.Scale(domain=figures, range=dashes),
                legend=alt.Legend(orient="bottom", title=None),
            ),
            tooltip=[
                "version",
                "figure",
                time_tooltip("day", "%Y-%m-%d"),
                alt.Tooltip("value:Q", format=".4f"),
            ],
        )
    )
    layers = [lines]
    if {"auroc_low", "auroc_high"} <= set(frame):
        band = frame.dropna(subset=["auroc_low", "auroc_high"])
        if not band.empty:
            layers.insert(
                0,
                alt.Chart(band)
                .mark_area(opacity=0.2)
                .encode(
                    x=x,
                    y="auroc_low:Q",
                    y2="auroc_high:Q",
                    color=color,
                    tooltip=[
                        "version",
                        time_tooltip("day", "%Y-%m-%d"),
                        alt.Tooltip("auroc_low:Q", format=".4f", title="95 % interval, low"),
                        alt.Tooltip("auroc_high:Q", format=".4f", title="95 % interval, high"),
                    ],
                ),
            )
    return alt.layer(*layers).properties(height=300)
