"""Figures of the monitoring page, computed from inference_log rows (no Streamlit here)."""

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


def _version_key(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (10**9, version)
