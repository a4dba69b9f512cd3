"""Population stability index of encoded inputs against the training reference histograms
of the feature spec: the API's drift window and the pipeline's drift trigger share it."""

from __future__ import annotations

import math

import numpy as np

from proyecto4_common.feature_spec import CategoricalFeature, FeatureSpec, Reference

# Floor for empty bins: PSI is undefined for a zero fraction on either side.
EPSILON = 1e-4


def psi(actual: np.ndarray, expected: np.ndarray) -> float:
    a = np.maximum(actual, EPSILON)
    e = np.maximum(expected, EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))


def expected_fractions(ref: Reference) -> np.ndarray:
    """Reference bins plus a last 'missing' bin, summing to 1.

    Bin fractions are scaled to (1 - missing) so that either convention of the writer
    (fractions over all rows, or over non-null rows) gives the same distribution.
    """
    fractions = np.asarray(ref.fractions, dtype=np.float64)
    total = fractions.sum()
    present = fractions * ((1.0 - ref.missing) / total) if total > 0 else fractions
    return np.append(present, ref.missing)


class FeatureBins:
    """One feature's reference bins, and the fractions of encoded values falling in them."""

    def __init__(self, column: int, feature, ref: Reference):
        self.column = column
        self.name = feature.name
        self.expected = expected_fractions(ref)
        self.bins = len(ref.fractions)
        self.categorical = isinstance(feature, CategoricalFeature)
        # Outer bins are open: values beyond the training range land in the first or last.
        self.edges = None if self.categorical else np.asarray(ref.edges, dtype=np.float64)

    def actual(self, values: np.ndarray) -> np.ndarray:
        missing = np.isnan(values)
        present = values[~missing]
        if self.categorical:
            index = present.astype(np.int64)
        else:
            index = np.searchsorted(self.edges, present, side="right") - 1
            np.clip(index, 0, self.bins - 1, out=index)
        counts = np.bincount(index, minlength=self.bins)[: self.bins]
        return np.append(counts, missing.sum()) / len(values)


def feature_bins(spec: FeatureSpec) -> list[FeatureBins]:
    """The features of `spec` that carry a reference, with their column in the model."""
    return [
        FeatureBins(i, f, f.reference)
        for i, f in enumerate(spec.features)
        if f.reference is not None and f.reference.fractions
    ]


def psi_by_feature(bins: list[FeatureBins], matrix: np.ndarray) -> dict[str, float]:
    """PSI of each feature of an encoded matrix (rows in the model's column order)."""
    out = {}
    for f in bins:
        value = psi(f.actual(matrix[:, f.column]), f.expected)
        if math.isfinite(value):
            out[f.name] = value
    return out
