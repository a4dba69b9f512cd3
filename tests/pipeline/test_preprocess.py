"""preprocess_and_split: labelled features, no leakage, a split forward in time (test the
newest days, validation the days before, train everything earlier) or, for comparison, a
stratified 70/15/15 random split."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from pipeline.db import make_engine
from pipeline.extract import create_raw_tables, ingest
from pipeline.features import FEATURES, FLIGHT_DATE, LEAKAGE_COLUMNS, TARGET
from pipeline.preprocess import ForwardDays, forward_days, preprocess_and_split
from sqlalchemy import inspect


@pytest.fixture
def clean(settings):
    """The random split, which these first tests describe."""
    settings = settings.model_copy(update={"pipeline_split": "random"})
    create_raw_tables(settings)
    ingest(settings, until=date(2013, 1, 7))
    report = preprocess_and_split(settings)
    return report, pd.read_sql_table("clean_data", make_engine(settings.data_db_url))


@pytest.fixture
def forward(settings):
    """Three weeks split forward: the newest 4 days test, the 5 before validation."""
    settings = settings.model_copy(update={"pipeline_test_days": 4, "pipeline_validation_days": 5})
    create_raw_tables(settings)
    ingest(settings, until=date(2013, 1, 21))
    report = preprocess_and_split(settings)
    return report, pd.read_sql_table("clean_data", make_engine(settings.data_db_url))


def test_the_default_split_is_forward_in_time(forward):
    report, frame = forward
    day = pd.to_datetime(frame[FLIGHT_DATE]).dt.date
    days = {name: set(day[frame["dataset"] == name]) for name in ("train", "validation", "test")}

    assert report["split"] == "forward" and "note" not in report
    assert days["test"] == {date(2013, 1, d) for d in range(18, 22)}
    assert days["validation"] == {date(2013, 1, d) for d in range(13, 18)}
    assert days["train"] == {date(2013, 1, d) for d in range(1, 13)}
    # Each set is later than the one before: no test day in validation or train, no
    # validation day in train.
    assert max(days["train"]) < min(days["validation"])
    assert max(days["validation"]) < min(days["test"])


@pytest.mark.parametrize(
    ("days", "test", "validation", "expected"),
    [
        (90, 14, 14, ForwardDays(14, 14)),
        (28, 14, 14, ForwardDays(7, 7)),
        (7, 14, 14, ForwardDays(2, 1)),
        (3, 14, 14, ForwardDays(1, 1)),
        (30, 2, 12, ForwardDays(2, 12)),
    ],
)
def test_a_short_window_gives_fewer_test_and_validation_days(days, test, validation, expected):
    fitted = forward_days(days, test, validation)

    assert (fitted.test, fitted.validation) == (expected.test, expected.validation)
    assert fitted.test + fitted.validation <= max(days // 2, 2)
    assert bool(fitted.note) is (expected.test != test or expected.validation != validation)


def test_fewer_than_three_days_cannot_be_split_forward():
    with pytest.raises(ValueError, match="a forward split needs at least 3"):
        forward_days(2, 14, 14)


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
    again = preprocess_and_split(settings.model_copy(update={"pipeline_split": "random"}))
    tables = inspect(make_engine(settings.data_db_url)).get_table_names()

    assert again == report
    assert "clean_data" in tables
    assert not [t for t in tables if t.endswith("__staging")]


def test_too_little_data_is_a_clear_error(settings):
    create_raw_tables(settings)

    with pytest.raises(ValueError, match="too few to train; ingest more days first"):
        preprocess_and_split(settings)
