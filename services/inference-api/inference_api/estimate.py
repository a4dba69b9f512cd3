"""Quality before outcomes arrive: CBPE over the probabilities the current model served.

The served probabilities go, one float each, into a ring buffer next to the drift window;
the estimate (proyecto4_common.estimation) is computed only when /metrics is scraped, on the
probabilities calibrated with the model's own spec, since CBPE reads a probability as the
chance the flight is delayed.
"""

from __future__ import annotations

import numpy as np
from proyecto4_common.estimation import estimated_auroc
from proyecto4_common.feature_spec import FeatureSpec

from inference_api.ring import Ring


class EstimateWindow:
    """The last `size` probabilities served by one model and their estimated AUROC."""

    def __init__(self, spec: FeatureSpec, size: int, min_rows: int):
        self.spec = spec
        self.min_rows = min_rows
        self._ring = Ring(size)

    @property
    def count(self) -> int:
        return self._ring.count

    def add(self, probabilities: list[float]) -> None:
        if len(probabilities) == 1:
            self._ring.add_one(probabilities[0])
        else:
            self._ring.add(np.asarray(probabilities, dtype=np.float64))

    def auroc(self) -> float | None:
        """None below `min_rows` (an estimate on a handful of flights is noise) or when the
        window expects only one class."""
        if self._ring.count < self.min_rows:
            return None
        return estimated_auroc(self.spec.calibrated(self._ring.rows))
