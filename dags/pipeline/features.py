"""Which raw columns become model features, and how; the target; what is left out and why.

This module is the one place that knows the model's inputs. Training turns it into the
FeatureSpec (feature_spec.json) that the API and the UI read from MLflow.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TARGET = "delayed"
# clean_data's day of each flight: not a feature; it tells which rows came after a model's
# training data (training.versus_production).
FLIGHT_DATE = "flight_date"
# Arrival more than this many minutes late counts as delayed.
DELAY_THRESHOLD_MIN = 15

# Known only after the flight: they would leak the answer.
LEAKAGE_COLUMNS = ("dep_time", "dep_delay", "arr_time", "arr_delay", "air_time")
# Constant, identifiers or duplicates of other columns: no signal a new flight could share.
USELESS_COLUMNS = (
    "year",
    "flight",
    "tailnum",
    "time_hour",
    "hour",
    "minute",
    "sched_dep_time",
    "sched_arr_time",
    "day",
    "source_group",
    "source_date",
)

CATEGORICAL_FEATURES = ("carrier", "origin", "dest")
# Date parts: a window of recent days never has training's distribution of them, so input
# drift leaves them out (pipeline/drift.py).
CALENDAR_FEATURES = ("month", "day_of_month", "day_of_week")
WEATHER_FEATURES = (
    "temp",
    "dewp",
    "humid",
    "wind_dir",
    "wind_speed",
    "wind_gust",
    "precip",
    "pressure",
    "visib",
)
# name -> ("integer" | "number", description)
NUMERIC_FEATURES: dict[str, tuple[str, str]] = {
    "month": ("integer", "Month of the scheduled departure (1-12)"),
    "day_of_month": ("integer", "Day of the month of the scheduled departure"),
    "day_of_week": ("integer", "Day of the week of the scheduled departure (0 = Monday)"),
    "sched_dep_hour": ("integer", "Scheduled departure hour, local time"),
    "sched_dep_minute": ("integer", "Scheduled departure minute"),
    "sched_arr_hour": ("integer", "Scheduled arrival hour, local time"),
    "distance": ("number", "Distance between airports, miles"),
    "temp": ("number", "Temperature at the origin, F"),
    "dewp": ("number", "Dew point at the origin, F"),
    "humid": ("number", "Relative humidity at the origin, %"),
    "wind_dir": ("number", "Wind direction at the origin, degrees"),
    "wind_speed": ("number", "Wind speed at the origin, mph"),
    "wind_gust": ("number", "Wind gust at the origin, mph"),
    "precip": ("number", "Precipitation at the origin, inches"),
    "pressure": ("number", "Sea level pressure at the origin, millibars"),
    "visib": ("number", "Visibility at the origin, miles"),
}
CATEGORICAL_DESCRIPTIONS = {
    "carrier": "Airline",
    "origin": "Origin airport (New York)",
    "dest": "Destination airport",
}
FEATURES = (
    "month",
    "day_of_month",
    "day_of_week",
    "sched_dep_hour",
    "sched_dep_minute",
    "sched_arr_hour",
    "carrier",
    "origin",
    "dest",
    "distance",
    *WEATHER_FEATURES,
)


def labels(arr_delay: pd.Series) -> pd.Series:
    """The target of flights with an arrival delay; cancelled or diverted flights (no
    arrival delay) have no label and are left out, in training and in live quality alike."""
    known = arr_delay[arr_delay.notna()]
    return (known > DELAY_THRESHOLD_MIN).astype("int64")


def feature_frame(raw: pd.DataFrame) -> pd.DataFrame:
    """Raw rows -> FEATURES, one row per flight (cancelled ones too), same index."""
    when = pd.to_datetime(
        {"year": raw["year"], "month": raw["month"], "day": raw["day"]}, errors="coerce"
    )
    return pd.DataFrame(
        {
            "month": raw["month"].astype("int64"),
            "day_of_month": raw["day"].astype("int64"),
            "day_of_week": when.dt.dayofweek.astype("int64"),
            "sched_dep_hour": (raw["sched_dep_time"] // 100).astype("int64"),
            "sched_dep_minute": (raw["sched_dep_time"] % 100).astype("int64"),
            "sched_arr_hour": ((raw["sched_arr_time"] // 100) % 24).astype("int64"),
            "carrier": raw["carrier"].astype(str),
            "origin": raw["origin"].astype(str),
            "dest": raw["dest"].astype(str),
            "distance": raw["distance"].astype("float64"),
            **{c: raw[c].astype("float64") for c in WEATHER_FEATURES},
        },
        index=raw.index,
    )


def build_features(raw: pd.DataFrame) -> pd.DataFrame:
    """Raw rows -> one row per labelled flight: FEATURES + TARGET.

    Flights with no arrival delay (cancelled or diverted) have no label and are dropped.
    """
    raw = raw[raw["arr_delay"].notna()]
    out = feature_frame(raw)
    out[TARGET] = labels(raw["arr_delay"])
    return out.reset_index(drop=True)


def encode(frame: pd.DataFrame, categories: dict[str, list[str]]) -> pd.DataFrame:
    """Features as the booster sees them: categorical values as their index in `categories`
    (NaN when unseen), everything float64 — the same encoding RecordEncoder does for the API."""
    out = pd.DataFrame(index=frame.index)
    for name in FEATURES:
        if name in CATEGORICAL_FEATURES:
            codes = pd.Categorical(frame[name], categories=categories[name]).codes
            out[name] = np.where(codes < 0, np.nan, codes).astype("float64")
        else:
            out[name] = frame[name].astype("float64")
    return out
