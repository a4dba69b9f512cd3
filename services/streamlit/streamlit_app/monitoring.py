"""Figures of the monitoring page, computed from inference_log, model_quality and
promotion_ledger rows (no Streamlit here)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Summary:
    predictions: int
    share_delayed: float
    p50_ms: float
    p95_ms: float
    first: pd.Timestamp
    last: pd.Timestamp
    versions: tuple[str, ...]


def summarize(log: pd.DataFrame) -> Summary:
    latency = log["latency_ms"].astype(float)
    return Summary(
        predictions=len(log),
        share_delayed=float(log["prediction"].astype(int).mean()),
        p50_ms=float(latency.quantile(0.5)),
        p95_ms=float(latency.quantile(0.95)),
        first=log["created_at"].min(),
        last=log["created_at"].max(),
        versions=tuple(sorted(log["model_version"].astype(str).unique(), key=_version_key)),
    )


def bucket_size(log: pd.DataFrame) -> tuple[str, str]:
    """A pandas frequency giving a readable number of points for the log's span, and its name."""
    span = log["created_at"].max() - log["created_at"].min()
    for limit, freq, word in (
        (pd.Timedelta(hours=2), "1min", "minute"),
        (pd.Timedelta(days=2), "1h", "hour"),
    ):
        if span <= limit:
            return freq, word
    return "1D", "day"


def by_bucket(log: pd.DataFrame, freq: str) -> pd.DataFrame:
    """Per time bucket: predictions, share delayed, median and p95 latency (index `bucket`)."""
    grouped = log.set_index("created_at").resample(freq)
    frame = pd.DataFrame(
        {
            "predictions": grouped["id"].count(),
            "share_delayed": grouped["prediction"].mean(),
            "p50_ms": grouped["latency_ms"].quantile(0.5),
            "p95_ms": grouped["latency_ms"].quantile(0.95),
        }
    )
    frame.index.name = "bucket"
    # Empty buckets count as zero predictions; their rates and latencies are unknown.
    frame["predictions"] = frame["predictions"].fillna(0).astype(int)
    return frame


def newest_quality(quality: pd.DataFrame) -> pd.DataFrame:
    """Each version's newest flight day: realized AUROC with its interval, the estimate, and
    the backtest's mean and decay threshold, as text (a figure an older row lacks stays empty)."""
    newest = quality.sort_values("day").groupby(quality["model_version"].astype(str)).tail(1)
    rows = [
        {
            "version": str(row["model_version"]),
            "day": row["day"].strftime("%Y-%m-%d"),
            "flights": int(row["count"]),
            "live AUROC (95 % interval)": _with_interval(
                _get(row, "auroc"), _get(row, "auroc_low"), _get(row, "auroc_high")
            ),
            "estimated AUROC (CBPE)": _number(_get(row, "estimated_auroc")),
            "backtest AUROC": _number(_get(row, "backtest_auroc")),
            "decay threshold": _number(_get(row, "backtest_auroc_low")),
        }
        for row in newest.to_dict("records")
    ]
    return pd.DataFrame(rows).sort_values("version", key=lambda v: v.map(_version_key))


def comparison(ledger: pd.DataFrame) -> pd.Series:
    """Per ledger row, candidate minus production on the rows neither trained on, with its
    95 % interval and the rows, as text; empty where the decision predates the comparison."""
    return pd.Series(
        [_comparison(row) for row in ledger.to_dict("records")],
        index=ledger.index,
        dtype=object,
    )


def _comparison(row: dict) -> str:
    difference = _get(row, "difference")
    if difference is None:
        return ""
    low, high = _get(row, "difference_low"), _get(row, "difference_high")
    text = f"{difference:+.4f}"
    if low is not None and high is not None:
        text += f" ({low:+.4f} to {high:+.4f})"
    rows = _get(row, "comparison_rows")
    return text + (f" on {int(rows):,} rows" if rows is not None else "")


def _with_interval(value: float | None, low: float | None, high: float | None) -> str:
    text = _number(value)
    if low is None or high is None:
        return text
    return f"{text} ({low:.3f} to {high:.3f})"


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _get(row: dict, name: str) -> float | None:
    # Rows of an older release lack the column or hold None/NaN in it.
    value = row.get(name)
    return None if value is None or pd.isna(value) else float(value)


def _version_key(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (10**9, version)
