"""Forward AUROC of the pipeline's own tuning at six cut-offs of 2013 (not a test: prints
figures).

For each cut-off the year's flights (as the data source serves them) are split as the
pipeline splits them forward: test the 14 days from the cut-off, validation the 14 days
before it, train every earlier day. The pipeline then tunes on that validation set (its
default budget, PIPELINE_* settings from the environment), refits on train and validation
and is scored on the test days, exactly as `train_model_auroc` does. Beside it: the same
tuned parameters on a stratified random split of the same rows (what the platform reported
before), and the backtest the run would log.

    uv run python benchmarks/forward_auroc.py [--objective auroc]
"""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta

import numpy as np
import pandas as pd
from pipeline.evaluation import backtest, random_split_auroc, scores
from pipeline.features import FLIGHT_DATE
from pipeline.preprocess import labelled_features
from pipeline.settings import PipelineSettings
from pipeline.splits import splits_of
from pipeline.training import refit
from pipeline.tuning import base_params, tune

CUT_OFFS = [date(2013, m, 1) for m in (3, 5, 7, 9, 11)] + [date(2013, 12, 18)]
DAYS = 14


def year_features() -> pd.DataFrame:
    from data_source.flights import load_flights

    raw = load_flights()
    raw["source_date"] = pd.to_datetime(raw[["year", "month", "day"]]).dt.date
    return labelled_features(raw)


def split_at(features: pd.DataFrame, cut_off: date) -> pd.DataFrame:
    day = features[FLIGHT_DATE]
    window = features[day < cut_off + timedelta(days=DAYS)]
    day = window[FLIGHT_DATE]
    dataset = np.where(
        day >= cut_off,
        "test",
        np.where(day >= cut_off - timedelta(days=DAYS), "validation", "train"),
    )
    return window.assign(dataset=dataset)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objective", default="auroc", choices=["auroc", "accuracy"])
    args = parser.parse_args()
    settings = PipelineSettings()
    features = year_features()
    print(
        f"{'cut-off':<10} {'train':>7} {'forward test AUROC':>18} {'random split':>12} "
        f"{'backtest mean +- sd':>20} {'s':>5}",
        flush=True,
    )
    forward, random = [], []
    for cut_off in CUT_OFFS:
        began = time.monotonic()
        splits = splits_of(split_at(features, cut_off))
        fitted, params, _ = tune(settings, args.objective, splits)
        rounds = fitted.best_iteration or fitted.current_iteration()
        booster = refit(settings, args.objective, splits, params, rounds)
        test = scores(booster, splits.X["test"], splits.y["test"])["auroc"]
        full = {**base_params(settings, args.objective), **params}
        X = pd.concat([splits.X[n] for n in ("train", "validation", "test")], ignore_index=True)
        y = np.concatenate([splits.y[n] for n in ("train", "validation", "test")])
        days = pd.concat([splits.days[n] for n in ("train", "validation", "test")])
        shuffled = random_split_auroc(
            X,
            y,
            splits.spec,
            full,
            rounds,
            settings.pipeline_validation_fraction,
            settings.pipeline_test_fraction,
            settings.pipeline_seed,
        )
        result = backtest(X, y, days.reset_index(drop=True), splits.spec, full, rounds, 4, 7)
        forward.append(test)
        random.append(shuffled)
        print(
            f"{cut_off.isoformat():<10} {len(splits.y['train']):>7} {test:>18.4f} "
            f"{shuffled:>12.4f} {result.mean:>12.4f} +- {result.sd:.4f} "
            f"{time.monotonic() - began:>5.0f}",
            flush=True,
        )
    print(f"mean forward test AUROC {np.mean(forward):.4f}; random split {np.mean(random):.4f}")


if __name__ == "__main__":
    main()
