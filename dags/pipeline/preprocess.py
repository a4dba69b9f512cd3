"""preprocess_and_split: all raw rows -> model-ready clean_data with a stratified split."""

from __future__ import annotations

import logging

import pandas as pd
from proyecto4_common.names import CLEAN_TABLE, RAW_TABLE
from sklearn.model_selection import train_test_split

from pipeline.db import make_engine, replace_table
from pipeline.features import FLIGHT_DATE, TARGET, build_features
from pipeline.settings import PipelineSettings

log = logging.getLogger(__name__)


def split(frame: pd.DataFrame, validation: float, test: float, seed: int) -> pd.DataFrame:
    """Adds a `dataset` column (train/validation/test), stratified on the target."""
    rest, test_part = train_test_split(
        frame, test_size=test, stratify=frame[TARGET], random_state=seed
    )
    train_part, validation_part = train_test_split(
        rest, test_size=validation / (1 - test), stratify=rest[TARGET], random_state=seed
    )
    return pd.concat(
        [
            train_part.assign(dataset="train"),
            validation_part.assign(dataset="validation"),
            test_part.assign(dataset="test"),
        ],
        ignore_index=True,
    )


def preprocess_and_split(settings: PipelineSettings) -> dict[str, int]:
    engine = make_engine(settings.data_db_url)
    raw = pd.read_sql_table(RAW_TABLE, engine)
    features = build_features(raw)
    # build_features keeps the labelled rows in order.
    features[FLIGHT_DATE] = pd.to_datetime(
        raw.loc[raw["arr_delay"].notna(), "source_date"]
    ).dt.date.to_numpy()
    if features[TARGET].nunique() < 2 or len(features) < 20:
        raise ValueError(
            f"raw_data has {len(features)} labelled rows with classes "
            f"{sorted(features[TARGET].unique())}: too few to train; ingest more days first"
        )
    clean = split(
        features,
        settings.pipeline_validation_fraction,
        settings.pipeline_test_fraction,
        settings.pipeline_seed,
    )
    replace_table(engine, CLEAN_TABLE, clean, settings.pipeline_block_size)
    counts = clean["dataset"].value_counts().to_dict()
    report = {
        "raw_rows": len(raw),
        "clean_rows": len(clean),
        **{k: int(v) for k, v in counts.items()},
    }
    log.info("clean_data: %s", report)
    return report
