"""Feature drift: population stability index of served inputs against training.

Served records are kept, already encoded, in a ring buffer (one numpy copy per request);
the PSI per feature (proyecto4_common.drift) is computed only when /metrics is scraped,
from the reference histograms in the model's feature spec.
"""

from __future__ import annotations

import numpy as np
from proyecto4_common.drift import feature_bins, psi_by_feature
from proyecto4_common.feature_spec import FeatureSpec


class DriftWindow:
    """The last `size` encoded records served by one model, and their PSI per feature."""

    def __init__(self, spec: FeatureSpec, size: int, min_rows: int):
        self.size = size
        self.min_rows = min_rows
        self._rows = np.empty((size, len(spec.features)), dtype=np.float64)
        self._next = 0
        self.count = 0
        self._features = feature_bins(spec)

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
        return psi_by_feature(self._features, self._rows[: self.count])
