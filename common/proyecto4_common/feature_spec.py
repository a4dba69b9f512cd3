"""The feature spec: the one description of the model's inputs.

Training writes it as `feature_spec.json` next to the model in MLflow and inside the
registered model (registered_model.py), whose signature it gives; the API validates
requests with it and encodes them without pandas; the UI builds its form from it; the
drift monitor compares served inputs with its reference histograms. Feature order here is
the column order of the model.
"""

from __future__ import annotations

import math
from operator import itemgetter
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from proyecto4_common.names import CATEGORIES


class Reference(BaseModel):
    """Distribution of a feature in the training split, for drift (PSI).

    Numeric: `edges` are the bin edges (len(fractions) + 1, open at both ends when used);
    categorical: one fraction per category, in the order of `categories`.
    `missing` is the fraction of nulls.
    """

    edges: list[float] | None = None
    fractions: list[float]
    missing: float = 0.0


class NumericFeature(BaseModel):
    name: str
    kind: Literal["integer", "number"]
    description: str = ""
    min: float
    max: float
    nullable: bool = False
    reference: Reference | None = None


class CategoricalFeature(BaseModel):
    name: str
    kind: Literal["categorical"] = "categorical"
    description: str = ""
    # Order matters: a category's index is its code in the model (pandas category codes).
    categories: list[str]
    # Readable names for the UI (e.g. carrier code -> airline name).
    labels: dict[str, str] = Field(default_factory=dict)
    nullable: bool = False
    reference: Reference | None = None


Feature = Annotated[NumericFeature | CategoricalFeature, Field(discriminator="kind")]


class Calibration(BaseModel):
    """Monotone map from the model's probability to the observed rate of delays, fitted on
    days the model never saw (pipeline/evaluation.py). Served probabilities stay the model's
    own; performance estimation (proyecto4_common.estimation) needs calibrated ones."""

    # How it was fitted: "sigmoid" (Platt scaling, tabulated) or "isotonic".
    method: Literal["sigmoid", "isotonic"] = "sigmoid"
    # Increasing thresholds of the raw probability and the calibrated value at each;
    # linear in between, constant outside.
    x: list[float]
    y: list[float]

    def apply(self, probability: np.ndarray) -> np.ndarray:
        return np.interp(np.asarray(probability, dtype=np.float64), self.x, self.y)


class RecordError(ValueError):
    """A request record that does not fit the spec; the message names the problem."""


class FeatureSpec(BaseModel):
    model_name: str
    target: str
    # Class index (as a string, JSON keys) -> category shown to users.
    classes: dict[str, str] = Field(
        default_factory=lambda: {str(k): v for k, v in CATEGORIES.items()}
    )
    features: list[Feature]
    # None for a model trained before calibration was fitted: estimates then use the
    # probabilities as they are.
    calibration: Calibration | None = None

    def calibrated(self, probability: np.ndarray) -> np.ndarray:
        p = np.asarray(probability, dtype=np.float64)
        return self.calibration.apply(p) if self.calibration else p

    # -- serialisation ---------------------------------------------------------------
    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, text: str | bytes) -> FeatureSpec:
        return cls.model_validate_json(text)

    @classmethod
    def load(cls, path) -> FeatureSpec:
        with open(path, "rb") as fh:
            return cls.from_json(fh.read())

    # -- lookups ---------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]

    def feature(self, name: str) -> NumericFeature | CategoricalFeature:
        for f in self.features:
            if f.name == name:
                return f
        raise KeyError(name)

    def category(self, class_index: int) -> str:
        return self.classes[str(int(class_index))]

    def example_record(self) -> dict[str, Any]:
        """A valid record: mid-range numbers, first categories (docs, smoke tests, benchmarks)."""
        record: dict[str, Any] = {}
        for f in self.features:
            if isinstance(f, CategoricalFeature):
                record[f.name] = f.categories[0]
            else:
                middle = (f.min + f.max) / 2
                record[f.name] = round(middle) if f.kind == "integer" else middle
        return record

    # -- request encoding (hot path of the API: plain Python, no pandas) ---------------
    def encoder(self) -> RecordEncoder:
        return RecordEncoder(self)


_CATEGORY_TYPES = {str, type(None)}
_NUMBER_TYPES = {int, float, type(None)}


class RecordEncoder:
    """Validates JSON records against a spec and writes them into a float64 matrix.

    Categorical values become their category code, nulls become NaN: exactly what the
    LightGBM booster saw in training through pandas categoricals.
    """

    def __init__(self, spec: FeatureSpec):
        self.spec = spec
        self.names = spec.names
        self._index = {n: i for i, n in enumerate(self.names)}
        self._codes: dict[str, dict[str, int]] = {}
        self._numeric: dict[str, NumericFeature] = {}
        for f in spec.features:
            if isinstance(f, CategoricalFeature):
                self._codes[f.name] = {c: i for i, c in enumerate(f.categories)}
            else:
                self._numeric[f.name] = f
        self._nullable = {f.name for f in spec.features if f.nullable}
        self._required = frozenset(self.names)
        getter = itemgetter(*self.names)
        self._values = getter if len(self.names) > 1 else (lambda record: (getter(record),))

    def encode(self, records: list[dict[str, Any]]) -> np.ndarray:
        out = np.empty((len(records), len(self.names)), dtype=np.float64)
        for row, record in enumerate(records):
            self.encode_into(record, out[row], row if len(records) > 1 else None)
        return out

    def encode_many(self, records: list[Any]) -> np.ndarray:
        """Same result and errors as `encode`, column by column (a few times faster on lists).

        Anything unusual in a column sends the whole list through `encode`, whose message
        names the record and the field.
        """
        # Objects of len(names) keys that all hold the names have exactly these keys.
        if set(map(type, records)) != {dict} or set(map(len, records)) != {len(self.names)}:
            return self.encode(records)
        try:
            columns = zip(*map(self._values, records), strict=False)
        except KeyError:
            return self.encode(records)
        out = np.empty((len(records), len(self.names)), dtype=np.float64)
        for i, (name, column) in enumerate(zip(self.names, columns, strict=False)):
            if not self._encode_column(name, column, out[:, i]):
                return self.encode(records)
        return out

    def _encode_column(self, name: str, column: tuple, out: np.ndarray) -> bool:
        """Fills `out`; False when some value needs the per-record path to explain it."""
        types = set(map(type, column))
        nullable = name in self._nullable
        if type(None) in types and not nullable:
            return False
        codes = self._codes.get(name)
        if codes is not None:
            if not types <= _CATEGORY_TYPES:
                return False
            if type(None) in types:
                out[:] = [math.nan if v is None else codes.get(v, -1) for v in column]
                return not (out == -1).any()
            try:
                out[:] = list(map(codes.__getitem__, column))
            except KeyError:  # an unknown category
                return False
            return True
        # bool is a subclass of int, but type() tells them apart.
        if not types <= _NUMBER_TYPES:
            return False
        out[:] = column  # None becomes NaN
        if np.isinf(out).any():
            return False
        if self._numeric[name].kind == "integer" and float in types:
            present = out[~np.isnan(out)] if nullable else out
            return bool((present == np.floor(present)).all())
        return True

    def encode_into(self, record: Any, out: np.ndarray, position: int | None = None) -> None:
        where = "" if position is None else f"record {position}: "
        if not isinstance(record, dict):
            raise RecordError(f"{where}expected a JSON object of feature values")
        keys = record.keys()
        if keys != self._required:
            missing = sorted(self._required - keys)
            unknown = sorted(keys - self._required)
            parts = []
            if missing:
                parts.append("missing field(s): " + ", ".join(missing))
            if unknown:
                parts.append("unknown field(s): " + ", ".join(unknown))
            raise RecordError(where + "; ".join(parts))
        for i, name in enumerate(self.names):
            value = record[name]
            if value is None:
                if name not in self._nullable:
                    raise RecordError(f"{where}{name}: must not be null")
                out[i] = math.nan
                continue
            codes = self._codes.get(name)
            if codes is not None:
                if not isinstance(value, str):
                    raise RecordError(f"{where}{name}: expected a string category")
                code = codes.get(value)
                if code is None:
                    raise RecordError(f"{where}{name}: unknown category {value!r}")
                out[i] = code
                continue
            spec = self._numeric[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise RecordError(f"{where}{name}: expected a number")
            if spec.kind == "integer" and isinstance(value, float) and not value.is_integer():
                raise RecordError(f"{where}{name}: expected an integer")
            if not math.isfinite(value):
                raise RecordError(f"{where}{name}: must be a finite number")
            out[i] = value
