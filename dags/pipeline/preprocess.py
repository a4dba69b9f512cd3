"""preprocess_and_split: all raw rows -> model-ready clean_data, split forward in time
(test: the newest days, validation: the days before them, train: everything earlier) or,
for comparison, stratified at random."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from proyecto4_common.names import CLEAN_TABLE, RAW_TABLE
from sklearn.model_selection import train_test_split

from pipeline.db import make_engine, replace_table
from pipeline.features import FLIGHT_DATE, TARGET, build_features
from pipeline.settings import PipelineSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ForwardDays:
    """How many of the newest days go to test and to validation; `note` says why they are
    fewer than asked when the window is short."""

    test: int
    validation: int
    note: str = ""


def forward_days(days: int, test: int, validation: int) -> ForwardDays:
    """Pure: the test and validation days a window of `days` days can give while train keeps
    at least half of them (a first run ingests a week); at least one day each."""
    if days < 3:
        raise ValueError(
            f"the window holds {days} day(s) of labelled flights: a forward split needs at "
            "least 3 (train, validation, test); ingest more days first"
        )
    if test + validation <= days // 2:
        return ForwardDays(test, validation)
    share = days // 2
    fitted_test = max(1, round(share * test / (test + validation)))
    fitted_validation = max(1, share - fitted_test)
    return ForwardDays(
        fitted_test,
        fitted_validation,
        f"the window holds {days} days, fewer than twice the {test} test and {validation} "
        f"validation days asked for: test is the newest {fitted_test}, validation the "
        f"{fitted_validation} before",
    )


def forward_split(frame: pd.DataFrame, days: ForwardDays) -> pd.DataFrame:
    """Adds a `dataset` column by flight day: test the newest `days.test` days, validation
    the `days.validation` days before them, train every earlier day."""
    newest_first = sorted(frame[FLIGHT_DATE].unique(), reverse=True)
    test_days = set(newest_first[: days.test])
    validation_days = set(newest_first[days.test : days.test + days.validation])
    day = frame[FLIGHT_DATE]
    dataset = np.where(
        day.isin(test_days), "test", np.where(day.isin(validation_days), "validation", "train")
    )
    return frame.assign(dataset=dataset)


def split(frame: pd.DataFrame, validation: float, test: float, seed: int) -> pd.DataFrame:
    """Adds a `dataset` column (train/validation/test), stratified on the target: the
    random split, kept for comparison (PIPELINE_SPLIT=random)."""
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


def labelled_features(raw: pd.DataFrame) -> pd.DataFrame:
    """The model's features and label of raw_data's labelled flights, with their day."""
    features = build_features(raw)
    # build_features keeps the labelled rows in order.
    features[FLIGHT_DATE] = pd.to_datetime(
        raw.loc[raw["arr_delay"].notna(), "source_date"]
    ).dt.date.to_numpy()
    return features


def preprocess_and_split(settings: PipelineSettings) -> dict[str, int]:
    engine = make_engine(settings.data_db_url)
    raw = pd.read_sql_table(RAW_TABLE, engine)
    features = labelled_features(raw)
    if features[TARGET].nunique() < 2 or len(features) < 20:
        raise ValueError(
            f"raw_data has {len(features)} labelled rows with classes "
            f"{sorted(features[TARGET].unique())}: too few to train; ingest more days first"
        )
    report: dict = {"split": settings.pipeline_split}
    if settings.pipeline_split == "forward":
        days = forward_days(
            features[FLIGHT_DATE].nunique(),
            settings.pipeline_test_days,
            settings.pipeline_validation_days,
        )
        if days.note:
            log.warning("forward split: %s", days.note)
            report["note"] = days.note
        clean = forward_split(features, days)
    else:
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
        **report,
    }
    log.info("clean_data: %s", report)
    return report
