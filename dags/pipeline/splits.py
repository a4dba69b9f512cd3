"""clean_data as training reads it: the three splits encoded for LightGBM, with the raw rows
and days that the champion comparison, the backtest and the drift reference need."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from proyecto4_common.feature_spec import FeatureSpec
from proyecto4_common.names import CLEAN_TABLE
from sqlalchemy import text as sql_text

from pipeline.db import make_engine
from pipeline.features import FEATURES, FLIGHT_DATE, TARGET, encode
from pipeline.settings import PipelineSettings
from pipeline.spec import build_spec, categories_of

EXAMPLE_ROWS = 5


@dataclass
class Splits:
    X: dict[str, pd.DataFrame]
    y: dict[str, np.ndarray]
    spec: FeatureSpec
    # A few validation rows as they are, before encoding: the model's input example.
    raw_example: pd.DataFrame
    # Validation and test rows before encoding, with their day (champion.versus_production).
    raw: dict[str, pd.DataFrame] | None = None
    # Each row's flight day, per split (the backtest's folds and the drift reference).
    days: dict[str, pd.Series] | None = None
    # The newest flight day in clean_data: logged, so that a later run knows which of its
    # rows this model never saw.
    data_until: str | None = None

    def rows(self, parts: tuple[str, ...]) -> tuple[pd.DataFrame, np.ndarray]:
        """The encoded rows and labels of `parts`, in that order, as one set."""
        X = pd.concat([self.X[n] for n in parts], ignore_index=True)
        return X, np.concatenate([self.y[n] for n in parts])


def load_splits(settings: PipelineSettings) -> Splits:
    return splits_of(pd.read_sql_table(CLEAN_TABLE, make_engine(settings.data_db_url)))


def splits_of(clean: pd.DataFrame) -> Splits:
    """clean_data's rows (with their `dataset`) as training reads them."""
    spec = build_spec(clean)
    categories = categories_of(spec)
    X, y, raw, days = {}, {}, {}, {}
    for name in ("train", "validation", "test"):
        part = clean[clean["dataset"] == name]
        X[name] = encode(part[list(FEATURES)], categories).reset_index(drop=True)
        y[name] = part[TARGET].to_numpy()
        if FLIGHT_DATE in part:
            days[name] = pd.to_datetime(part[FLIGHT_DATE]).reset_index(drop=True)
            if name != "train":
                raw[name] = part[[*FEATURES, FLIGHT_DATE]].reset_index(drop=True)
    example = clean.loc[clean["dataset"] == "validation", list(FEATURES)].head(EXAMPLE_ROWS)
    until = str(pd.to_datetime(clean[FLIGHT_DATE]).max().date()) if FLIGHT_DATE in clean else None
    return Splits(
        X=X,
        y=y,
        spec=spec,
        raw_example=example.reset_index(drop=True),
        raw=raw,
        days=days or None,
        data_until=until,
    )


def train_rows(settings: PipelineSettings) -> int:
    with make_engine(settings.data_db_url).connect() as conn:
        return conn.execute(
            sql_text(f"SELECT COUNT(*) FROM {CLEAN_TABLE} WHERE dataset = 'train'")
        ).scalar_one()
