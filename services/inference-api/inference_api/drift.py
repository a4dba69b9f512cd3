"""Feature drift: population stability index of served inputs against training.

Served records are kept, already encoded, in a ring buffer (one numpy copy per request);
the PSI per feature is computed only when /metrics is scraped, from the reference
histograms in the model's feature spec.
"""

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


class _FeatureBins:
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


class DriftWindow:
    """The last `size` encoded records served by one model, and their PSI per feature."""

    def __init__(self, spec: FeatureSpec, size: int, min_rows: int):
        self.size = size
        self.min_rows = min_rows
        self._rows = np.empty((size, len(spec.features)), dtype=np.float64)
        self._next = 0
        self.count = 0
        self._features = [
            _FeatureBins(i, f, f.reference)
            for i, f in enumerate(spec.features)
            if f.reference is not None and f.reference.fractions
        ]

    def add(self, matrix: np.ndarray) -> None:
        n = len(matrix)
        if n >= self.size:
            self._rows[:] = matrix[-self.size :]
            self._next = 0
            self.count = self.size
            return
        first = min(n, self.size - self._next)
        self._rows[self._next : self._next + first] = matrix[:first]
        self._rows[: n - first] = matrix[first:]
        self._next = (self._next + n) % self.size
        self.count = min(self.count + n, self.size)

    def psi(self) -> dict[str, float]:
        if self.count < self.min_rows:
            return {}
        rows = self._rows[: self.count]
        out = {}
        for f in self._features:
            value = psi(f.actual(rows[:, f.column]), f.expected)
            if math.isfinite(value):
                out[f.name] = value
        return out
