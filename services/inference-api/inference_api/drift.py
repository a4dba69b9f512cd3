"""Feature drift: population stability index of served inputs against training.

Served records are kept, already encoded, in a ring buffer (one numpy copy per request);
the PSI per feature (proyecto4_common.drift) is computed only when /metrics is scraped,
from the reference histograms in the model's feature spec.
"""

from __future__ import annotations

import numpy as np
from proyecto4_common.drift import feature_bins, psi_by_feature
from proyecto4_common.feature_spec import FeatureSpec

from inference_api.ring import Ring


class DriftWindow:
    """The last `size` encoded records served by one model, and their PSI per feature."""

    def __init__(self, spec: FeatureSpec, size: int, min_rows: int):
        self.min_rows = min_rows
        self._ring = Ring(size, len(spec.features))
        self._features = feature_bins(spec)

    @property
    def count(self) -> int:
        return self._ring.count

    def add(self, matrix: np.ndarray) -> None:
        self._ring.add(matrix)

    def psi(self) -> dict[str, float]:
        if self._ring.count < self.min_rows:
            return {}
        return psi_by_feature(self._features, self._ring.rows)
