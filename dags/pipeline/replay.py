"""Raw flights -> the requests production traffic would send: feature records with the
flight's key (prediction_key), cancelled flights included (nobody knows it before)."""

from __future__ import annotations

import math

import pandas as pd
from proyecto4_common.prediction_key import KEY_FIELD, flight_key

from pipeline.features import feature_frame


def keyed_records(raw: pd.DataFrame) -> list[dict]:
    """One /predict/ record per raw row, with its key, in the rows' order."""
    features = feature_frame(raw)
    days = pd.to_datetime({"year": raw["year"], "month": raw["month"], "day": raw["day"]})
    records = []
    for record, day, carrier, number, origin in zip(
        features.to_dict("records"), days.dt.date, raw["carrier"], raw["flight"], raw["origin"]
    ):
        clean = {k: (None if isinstance(v, float) and math.isnan(v) else v)
                 for k, v in record.items()}
        clean[KEY_FIELD] = flight_key(day, carrier, int(number), origin)
        records.append(clean)
    return records
