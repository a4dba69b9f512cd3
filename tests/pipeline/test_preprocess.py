"""preprocess_and_split: labelled features, no leakage, a stratified 70/15/15 split."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from pipeline.db import make_engine
from pipeline.extract import create_raw_tables, ingest
from pipeline.features import FEATURES, FLIGHT_DATE, LEAKAGE_COLUMNS, TARGET
from pipeline.preprocess import preprocess_and_split
from sqlalchemy import inspect


@pytest.fixture
def clean(settings):
    create_raw_tables(settings)
    ingest(settings, until=date(2013, 1, 7))
    report = preprocess_and_split(settings)
    return report, pd.read_sql_table("clean_data", make_engine(settings.data_db_url))


def test_split_proportions_follow_the_settings(clean):
    report, frame = clean
    shares = frame["dataset"].value_counts(normalize=True)

    assert (
        report["clean_rows"]
        == len(frame)
        == report["train"] + report["validation"] + report["test"]
    )
    assert shares["train"] == pytest.approx(0.70, abs=0.005)
    assert shares["validation"] == pytest.approx(0.15, abs=0.005)
    assert shares["test"] == pytest.approx(0.15, abs=0.005)


def test_every_split_keeps_the_share_of_delayed_flights(clean):
    _, frame = clean
    overall = frame[TARGET].mean()
    per_split = frame.groupby("dataset")[TARGET].mean()

    assert 0.05 < overall < 0.6
    for name in ("train", "validation", "test"):
        assert per_split[name] == pytest.approx(overall, abs=0.005), name


def test_no_leakage_or_raw_column_reaches_the_features(clean):
    _, frame = clean

    assert set(frame.columns) == {*FEATURES, TARGET, "dataset", FLIGHT_DATE}
    assert not set(LEAKAGE_COLUMNS) & set(FEATURES)
    assert not set(LEAKAGE_COLUMNS) & set(frame.columns)


def test_unlabelled_flights_are_dropped(clean, settings):
    report, frame = clean
    raw = pd.read_sql_table("raw_data", make_engine(settings.data_db_url))

    assert report["raw_rows"] == len(raw)
    assert len(frame) == raw["arr_delay"].notna().sum() < len(raw)


def test_rebuilding_replaces_the_table_whole(clean, settings):
    report, _ = clean
    again = preprocess_and_split(settings)
    tables = inspect(make_engine(settings.data_db_url)).get_table_names()

    assert again == report
    assert "clean_data" in tables
    assert not [t for t in tables if t.endswith("__staging")]


def test_too_little_data_is_a_clear_error(settings):
    create_raw_tables(settings)

    with pytest.raises(ValueError, match="too few to train; ingest more days first"):
        preprocess_and_split(settings)
