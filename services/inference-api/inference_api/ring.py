"""A preallocated ring buffer of the newest rows served: the windows the API computes drift
and estimated quality over at scrape time, fed on the hot path without allocating."""

from __future__ import annotations

import numpy as np


class Ring:
    """The last `size` rows added (each a float, or `width` floats); order is not kept."""

    def __init__(self, size: int, width: int | None = None):
        self.size = size
        self._rows = np.empty((size,) if width is None else (size, width), dtype=np.float64)
        self._next = 0
        self.count = 0

    def add(self, rows: np.ndarray) -> None:
        n = len(rows)
        if n >= self.size:
            self._rows[:] = rows[-self.size :]
            self._next = 0
            self.count = self.size
            return
        first = min(n, self.size - self._next)
        self._rows[self._next : self._next + first] = rows[:first]
        self._rows[: n - first] = rows[first:]
        self._next = (self._next + n) % self.size
        self.count = min(self.count + n, self.size)

    def add_one(self, value: float) -> None:
        # The one-row /predict/ path: a store and two integer updates, no array made.
        self._rows[self._next] = value
        self._next = (self._next + 1) % self.size
        if self.count < self.size:
            self.count += 1

    @property
    def rows(self) -> np.ndarray:
        """A view of the filled part (not a copy: read it before serving goes on)."""
        return self._rows[: self.count]
