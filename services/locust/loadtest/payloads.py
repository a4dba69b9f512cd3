"""Request bodies for the load test, shaped like what the model saw in training.

Records are drawn from the production model's feature spec: a categorical value follows
the reference fractions of its categories, a numeric value falls in a reference histogram
bin chosen by its fraction (uniform inside the bin, clipped to the feature's min/max).
Given real rows (a sample file), records are those rows reduced to the spec's features,
with any value the API would refuse redrawn from the spec, so every valid record is valid.

Plain Python on purpose: it runs inside locust's gevent workers, no pandas, no numpy.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from proyecto4_common.feature_spec import (
    CategoricalFeature,
    FeatureSpec,
    NumericFeature,
    RecordError,
)
from proyecto4_common.prediction_key import KEY_FIELD, PredictionKeyError, parse_key

Record = dict[str, Any]


class RecordGenerator:
    """Valid records for a spec, or picked at random from `sample_rows` when given."""

    def __init__(
        self,
        spec: FeatureSpec,
        sample_rows: list[Record] | None = None,
        rng: random.Random | None = None,
    ):
        self.spec = spec
        self.rng = rng or random.Random()
        self._draw = {f.name: self._drawer(f) for f in spec.features}
        self._rows = [self._fit(row) for row in sample_rows or []]

    def record(self) -> Record:
        if self._rows:
            return dict(self.rng.choice(self._rows))
        return {name: draw() for name, draw in self._draw.items()}

    def records(self, n: int) -> list[Record]:
        return [self.record() for _ in range(n)]

    def invalid(self) -> Any:
        """A body the API must refuse with a 4xx; a different mistake each time."""
        record = self.record()
        name = self.rng.choice(self.spec.names)
        mistakes: list[Callable[[], Any]] = [
            lambda: {k: v for k, v in record.items() if k != name},
            lambda: {**record, "not_a_feature": 1},
            lambda: {**record, name: [1, 2]},
            lambda: "not a record",
        ]
        categorical = [f for f in self.spec.features if isinstance(f, CategoricalFeature)]
        if categorical:
            feature = self.rng.choice(categorical)
            mistakes.append(lambda: {**record, feature.name: "no such category"})
        return self.rng.choice(mistakes)()

    # -- one drawer per feature ----------------------------------------------------
    def _drawer(self, feature: NumericFeature | CategoricalFeature) -> Callable[[], Any]:
        value = (
            self._categorical(feature)
            if isinstance(feature, CategoricalFeature)
            else self._numeric(feature)
        )
        missing = feature.reference.missing if feature.reference else 0.0
        if not (feature.nullable and missing > 0):
            return value
        return lambda: None if self.rng.random() < missing else value()

    def _categorical(self, feature: CategoricalFeature) -> Callable[[], str]:
        weights = _weights(
            feature.reference and feature.reference.fractions, len(feature.categories)
        )
        return lambda: self.rng.choices(feature.categories, weights)[0]

    def _numeric(self, feature: NumericFeature) -> Callable[[], float | int]:
        ref = feature.reference
        edges = (
            ref.edges if ref and ref.edges and len(ref.edges) == len(ref.fractions) + 1 else None
        )
        bins = (
            [(max(lo, feature.min), min(hi, feature.max)) for lo, hi in itertools.pairwise(edges)]
            if edges
            else [(feature.min, feature.max)]
        )
        weights = _weights(ref.fractions if edges else None, len(bins))
        # A bin wholly outside [min, max] (possible with open outer edges) can never be drawn.
        weights = [w if lo <= hi else 0.0 for w, (lo, hi) in zip(weights, bins, strict=False)]
        if not any(weights):
            bins, weights = [(feature.min, feature.max)], [1.0]

        def draw() -> float | int:
            lo, hi = self.rng.choices(bins, weights)[0]
            value = self.rng.uniform(lo, hi)
            if feature.kind == "integer":
                return _integer_in(value, feature.min, feature.max)
            return value

        return draw

    def _fit(self, row: Record) -> Record:
        """A sample row reduced to the spec's features; a value the API could refuse
        (wrong type, unknown category, outside the training range) is redrawn."""
        encoder = self.spec.encoder()
        fitted = {name: draw() for name, draw in self._draw.items()}
        for feature in self.spec.features:
            value = row.get(feature.name, fitted[feature.name])
            candidate = {**fitted, feature.name: value}
            try:
                encoder.encode([candidate])
            except RecordError:
                continue
            numeric = isinstance(feature, NumericFeature) and value is not None
            if numeric and not feature.min <= value <= feature.max:
                continue
            fitted = candidate
        # A replayed row keeps its key (`proyecto4 replay --save`), so its outcome can be
        # joined with the prediction later; a malformed one is dropped.
        if KEY_FIELD in row:
            try:
                parse_key(row[KEY_FIELD])
                fitted[KEY_FIELD] = row[KEY_FIELD]
            except PredictionKeyError:
                pass
        return fitted


def _weights(fractions: list[float] | None, n: int) -> list[float]:
    if fractions and len(fractions) == n and sum(fractions) > 0:
        return list(fractions)
    return [1.0] * n


def _integer_in(value: float, low: float, high: float) -> int:
    lowest, highest = math.ceil(low), math.floor(high)
    return min(max(round(value), lowest), highest)


def load_sample_rows(path: str | Path) -> list[Record]:
    """Rows from a JSON list, a data-source answer (`{"rows": [...]}`) or JSON Lines."""
    text = Path(path).read_text()
    if Path(path).suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data = json.loads(text)
    rows = data["rows"] if isinstance(data, dict) else data
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ValueError(f"{path}: expected a list of JSON objects")
    return rows
