"""Replay: the real flights of a day become keyed /predict/ records, cancelled ones too."""

from __future__ import annotations

from datetime import date

from pipeline.extract import SourceClient
from pipeline.features import FEATURES
from pipeline.replay import REPLAY_COLUMNS, keyed_days
from pipeline.settings import PipelineSettings
from proyecto4_common.prediction_key import parse_key


def test_a_days_flights_become_records_with_their_keys(data_source_url, tmp_path):
    settings = PipelineSettings(proyecto4_home=tmp_path, data_source_url=data_source_url)
    day = date(2013, 3, 8)
    source = SourceClient(settings)
    raw = source.day(1, day, [*REPLAY_COLUMNS, "arr_delay"])
    source.close()

    [(replayed_day, records)] = list(keyed_days(settings, day, day))

    assert replayed_day == day
    assert len(records) == len(raw) > 500
    assert raw["arr_delay"].isna().any()  # cancelled flights are sent too
    keys = [parse_key(r["key"]) for r in records]
    assert {k.flight_date for k in keys} == {day}
    assert len(set(keys)) == len(keys)  # date, carrier, number and origin name one flight
    assert [(k.flight_carrier, k.flight_number, k.flight_origin) for k in keys] == list(
        zip(raw["carrier"], raw["flight"], raw["origin"], strict=False)
    )
    assert all(set(r) == {*FEATURES, "key"} for r in records)
    assert all(r["day_of_month"] == 8 and r["month"] == 3 for r in records)
