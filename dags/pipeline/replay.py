"""Replay: the real flights of a window sent to the API as production traffic would send
them, feature records with the flight's key (prediction_key), cancelled flights included
(nobody knows it before). `proyecto4 replay` runs it; Locust's replay mode uses
keyed_records."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from datetime import date, timedelta

import httpx
import pandas as pd
from proyecto4_common.names import PREDICT_PATH
from proyecto4_common.prediction_key import KEY_FIELD, flight_key

from pipeline.features import WEATHER_FEATURES, feature_frame
from pipeline.settings import PipelineSettings

log = logging.getLogger(__name__)


def keyed_records(raw: pd.DataFrame) -> list[dict]:
    """One /predict/ record per raw row, with its key, in the rows' order."""
    features = feature_frame(raw)
    days = pd.to_datetime({"year": raw["year"], "month": raw["month"], "day": raw["day"]})
    records = []
    for record, day, carrier, number, origin in zip(
        features.to_dict("records"),
        days.dt.date,
        raw["carrier"],
        raw["flight"],
        raw["origin"],
        strict=False,
    ):
        clean = {
            k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in record.items()
        }
        clean[KEY_FIELD] = flight_key(day, carrier, int(number), origin)
        records.append(clean)
    return records


# What keyed_records reads of a day's raw rows.
REPLAY_COLUMNS = [
    "year",
    "month",
    "day",
    "sched_dep_time",
    "sched_arr_time",
    "carrier",
    "flight",
    "origin",
    "dest",
    "distance",
    *WEATHER_FEATURES,
]


@dataclass
class ReplayReport:
    days: int = 0
    sent: int = 0
    failed: int = 0  # records of requests the API did not answer 200
    seconds: float = 0.0


def keyed_days(settings: PipelineSettings, start: date, end: date):
    """(day, keyed records) for each day of [start, end] from the data source (this
    deployment's group)."""
    from pipeline.extract import SourceClient

    source = SourceClient(settings)
    try:
        day = start
        while day <= end:
            yield day, keyed_records(source.day(settings.pipeline_group, day, REPLAY_COLUMNS))
            day += timedelta(days=1)
    finally:
        source.close()


def replay(
    settings: PipelineSettings,
    start: date,
    end: date,
    rate: float = 0.0,
    batch: int = 100,
    on_day=None,
) -> ReplayReport:
    """Sends the real flights of [start, end] with their keys to the API, day by day, in
    lists of `batch`; `rate` > 0 paces them to that many records a second, 0 sends as fast
    as the API answers."""
    report = ReplayReport()
    started = time.monotonic()
    with httpx.Client(base_url=settings.inference_api_url, timeout=60) as api:
        for day, records in keyed_days(settings, start, end):
            for i in range(0, len(records), batch):
                chunk = records[i : i + batch]
                response = api.post(PREDICT_PATH, json=chunk)
                report.sent += len(chunk)
                if response.status_code != 200:
                    report.failed += len(chunk)
                    log.warning("replay %s: %s %s", day, response.status_code, response.text[:200])
                if rate > 0:
                    ahead = report.sent / rate - (time.monotonic() - started)
                    if ahead > 0:
                        time.sleep(ahead)
            report.days += 1
            if on_day:
                on_day(day, len(records))
    report.seconds = time.monotonic() - started
    return report


def servable(records: list[dict], spec) -> tuple[list[dict], int]:
    """The keyed records a model of feature spec `spec` takes, and how many it would refuse:
    a client that read GET /model leaves out the flights the model cannot answer (a
    destination it never saw, a null it was never trained with) rather than have the
    whole list refused."""
    import numpy as np
    from proyecto4_common.feature_spec import RecordError

    encoder = spec.encoder()
    scratch = np.empty(len(spec.features))
    kept = []
    for record in records:
        try:
            encoder.encode_into({k: v for k, v in record.items() if k != KEY_FIELD}, scratch)
        except RecordError:
            continue
        kept.append(record)
    return kept, len(records) - len(kept)
