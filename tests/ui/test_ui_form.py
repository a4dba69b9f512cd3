"""From a feature spec to form inputs and back to an API record (no servers needed)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from proyecto4_common.feature_spec import CategoricalFeature, FeatureSpec, NumericFeature, Reference
from streamlit_app import form


def spec(*features) -> FeatureSpec:
    return FeatureSpec(model_name="flight-delay", target="delayed", features=list(features))


def integer(name: str, low: float, high: float, **kw) -> NumericFeature:
    return NumericFeature(name=name, kind="integer", min=low, max=high, **kw)


FLIGHTS = spec(
    integer("month", 1, 12),
    integer("day_of_month", 1, 31),
    integer("day_of_week", 0, 6),
    integer("sched_dep_hour", 5, 23),
    integer("sched_dep_minute", 0, 59),
    CategoricalFeature(
        name="carrier", categories=["AA", "UA"], labels={"UA": "United Air Lines Inc."}
    ),
    NumericFeature(name="distance", kind="number", min=17, max=4983),
)


def test_date_and_time_inputs_stand_for_the_features_they_determine():
    plan = form.plan(FLIGHTS)
    assert plan.date_features == ("month", "day_of_month", "day_of_week")
    assert plan.time_features == ("sched_dep_hour", "sched_dep_minute")
    assert [f.name for f in plan.fields] == ["carrier", "distance"]


def test_a_spec_without_date_features_gets_plain_inputs_only():
    plan = form.plan(spec(integer("hour_of_nothing", 0, 3)))
    assert not plan.has_date and not plan.has_time
    assert [f.name for f in plan.fields] == ["hour_of_nothing"]


def test_the_record_has_every_feature_typed_as_the_spec_says():
    plan = form.plan(FLIGHTS)
    # 2013-01-07 was a Monday: weekday 0, as pandas' dayofweek used in training.
    day = dt.date(2013, 1, 7)
    record = form.build_record(
        FLIGHTS, plan, day, dt.time(17, 45), {"carrier": "UA", "distance": 1400}
    )
    assert record == {
        "month": 1,
        "day_of_month": 7,
        "day_of_week": pd.Timestamp(day).day_of_week,
        "sched_dep_hour": 17,
        "sched_dep_minute": 45,
        "carrier": "UA",
        "distance": 1400.0,
    }
    assert isinstance(record["distance"], float)


def test_values_outside_the_training_range_are_named():
    narrow = spec(integer("month", 1, 1))
    record = form.build_record(narrow, form.plan(narrow), dt.date(2013, 6, 1), None, {})
    assert form.outside_training_range(narrow, record) == ["month = 6 (training saw 1–1)"]


def test_defaults_are_typical_of_training():
    january = spec(integer("month", 1, 1), integer("day_of_month", 1, 14))
    assert form.default_date(january).month == 1
    wind = NumericFeature(
        name="wind_speed",
        kind="number",
        min=0,
        max=40,
        reference=Reference(edges=[0, 5, 10, 40], fractions=[0.2, 0.5, 0.3]),
    )
    assert form.typical_value(wind) == 7.5
    carrier = CategoricalFeature(
        name="carrier", categories=["AA", "UA"], reference=Reference(fractions=[0.3, 0.7])
    )
    assert form.typical_value(carrier) == "UA"


def test_dropdowns_show_readable_names_with_the_code():
    carrier = FLIGHTS.feature("carrier")
    assert form.label(carrier, "UA") == "United Air Lines Inc. (UA)"
    assert form.label(carrier, "AA") == "AA"
    assert form.widget_kind(carrier) == "select"
    assert form.widget_kind(FLIGHTS.feature("sched_dep_minute")) == "slider"
    assert form.widget_kind(FLIGHTS.feature("distance")) == "number"
