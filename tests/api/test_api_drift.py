"""PSI of served records against the spec's reference histograms (inference_api.drift)."""

from __future__ import annotations

import numpy as np
import pytest
from inference_api.drift import DriftWindow
from proyecto4_common.feature_spec import (
    CategoricalFeature,
    FeatureSpec,
    NumericFeature,
    Reference,
)

SPEC = FeatureSpec(
    model_name="flight-delay",
    target="delayed",
    features=[
        # np.histogram convention: fractions over non-null values, nulls in `missing`.
        NumericFeature(
            name="distance",
            kind="number",
            min=0,
            max=300,
            nullable=True,
            reference=Reference(edges=[0, 100, 200, 300], fractions=[0.5, 0.3, 0.2], missing=0.1),
        ),
        CategoricalFeature(
            name="origin",
            categories=["EWR", "JFK", "LGA"],
            reference=Reference(fractions=[0.5, 0.25, 0.25]),
        ),
        NumericFeature(name="hour", kind="integer", min=0, max=23),  # no reference: no PSI
    ],
)


def sample(n: int, distance_bins=(0.5, 0.3, 0.2), missing=0.1, origins=(0.5, 0.25, 0.25)):
    rng = np.random.default_rng(7)
    bins = rng.choice(3, size=n, p=distance_bins)
    distance = bins * 100 + rng.uniform(0, 100, n)
    distance[rng.random(n) < missing] = np.nan
    origin = rng.choice(3, size=n, p=origins).astype(float)
    return np.column_stack([distance, origin, rng.integers(0, 24, n)])


def test_records_like_the_training_data_do_not_drift():
    window = DriftWindow(SPEC, size=20_000, min_rows=100)
    window.add(sample(20_000))

    psi = window.psi()

    assert set(psi) == {"distance", "origin"}
    assert psi["distance"] < 0.01
    assert psi["origin"] < 0.01


@pytest.mark.parametrize(
    "shifted, feature",
    [
        ({"distance_bins": (0.1, 0.2, 0.7)}, "distance"),
        ({"missing": 0.6}, "distance"),
        ({"origins": (0.1, 0.1, 0.8)}, "origin"),
    ],
    ids=["numeric shift", "more nulls", "category shift"],
)
def test_a_shifted_feature_drifts_and_only_that_one(shifted, feature):
    window = DriftWindow(SPEC, size=20_000, min_rows=100)
    window.add(sample(20_000, **shifted))

    psi = window.psi()

    assert psi[feature] > 0.25
    assert all(value < 0.01 for name, value in psi.items() if name != feature)


def test_values_beyond_the_training_range_land_in_the_outer_bins():
    window = DriftWindow(SPEC, size=4, min_rows=1)
    window.add(np.array([[-50.0, 0, 1], [1e9, 0, 1]]))

    psi = window.psi()

    # Half in the first bin (reference 0.45), half in the last (0.18): finite, not NaN.
    assert 0 < psi["distance"] < 10


def test_nothing_is_reported_below_the_minimum_rows():
    window = DriftWindow(SPEC, size=100, min_rows=10)
    window.add(sample(9))

    assert window.psi() == {}


def test_the_window_keeps_only_the_latest_rows():
    window = DriftWindow(SPEC, size=1_000, min_rows=100)
    window.add(sample(1_000, origins=(0.1, 0.1, 0.8)))
    for start in range(0, 3_000, 300):  # wraps around the ring buffer several times
        window.add(sample(3_000)[start : start + 300])

    assert window.count == 1_000
    assert window.psi()["origin"] < 0.05
