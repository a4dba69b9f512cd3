"""How the pipeline's time and memory grow with rows, and where the training pod's memory
limit is reached (not a test: prints figures; issue 24).

Sizes: the first 1, 3, 6 and 12 months of 2013, and 2x and 5x the year: the year's raw
flights resampled with replacement, each row moved by a whole number of 52-week years
(weekdays and categories stay real). For each size:

- preprocess s: raw rows -> labelled features -> the forward split (preprocess_and_split
  without its database write);
- tuning s with 1 and with 2 workers: one study in PostgreSQL, the same trial budget, each
  worker a process of its own as each is a pod in the cluster (one LightGBM thread each: a
  worker pod's CPU), from the moment every worker has its data to the last one's end;
- refit s: the study's best parameters on every training row, then on train+validation
  (train_model_<objective> without the evaluation and the MLflow upload);
- peak RSS of the training process (load, tune as the one worker, refit) and, over the
  RSS it had before reading data, bytes per training row.

Then the training rows at which the worker pod's memory limit (values.yaml, values/prod.yaml)
is reached, from the largest size's bytes per row.

    uv run python benchmarks/pipeline_scaling.py [--trials 12] [--sizes 1m,3m,6m,12m,2y,5y]

PIPELINE_* settings come from the environment; the studies go to a throwaway schema of
--db-url (default the machine's PostgreSQL).
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from pipeline.preprocess import forward_days, forward_split, labelled_features
from pipeline.settings import PipelineSettings
from pipeline.splits import splits_of
from pipeline.training import refit
from pipeline.tuning import Trials, TuningPlan, load_study, prepare_study, tune_worker
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
OBJECTIVE = "auroc"
YEAR_WEEKS = timedelta(weeks=52)
SIZES = {"1m": 1, "3m": 3, "6m": 6, "12m": 12, "2y": 24, "5y": 60}
DB_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def raw_year() -> pd.DataFrame:
    from data_source.flights import load_flights

    raw = load_flights()
    raw["source_date"] = pd.to_datetime(raw[["year", "month", "day"]])
    return raw


def raw_of(year: pd.DataFrame, months: int, seed: int) -> pd.DataFrame:
    """The first `months` months of the year, or `months / 12` years resampled from it."""
    if months <= 12:
        return year[year["month"] <= months].reset_index(drop=True)
    copies = months // 12
    rng = np.random.default_rng(seed)
    rows = year.iloc[rng.integers(0, len(year), size=copies * len(year))].reset_index(drop=True)
    day = rows["source_date"] + pd.to_timedelta(
        rng.integers(0, copies, size=len(rows)) * YEAR_WEEKS.days, unit="D"
    )
    return rows.assign(
        source_date=day, year=day.dt.year, month=day.dt.month, day=day.dt.day
    ).sort_values("source_date", kind="stable", ignore_index=True)


def preprocess(raw: pd.DataFrame, settings: PipelineSettings) -> pd.DataFrame:
    features = labelled_features(raw)
    days = forward_days(
        features["flight_date"].nunique(),
        settings.pipeline_test_days,
        settings.pipeline_validation_days,
    )
    return forward_split(features, days)


def _status_bytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def _reset_peak() -> int:
    """The current RSS, after resetting the peak to it (Linux: a spawned process starts with
    the peak of the process that forked it, here the benchmark holding every size's rows)."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_bytes("VmRSS")


def _peak() -> int:
    return _status_bytes("VmHWM")


def _worker(clean_file, settings, study_name, worker, refits, barrier, results) -> None:
    before = _reset_peak()
    splits = splits_of(pd.read_parquet(clean_file))
    barrier.wait()
    began = time.time()
    tune_worker(settings, OBJECTIVE, study_name, worker, splits)
    ended = time.time()
    refit_s = None
    if refits:
        study = load_study(settings, study_name)
        fitted = Trials(settings, OBJECTIVE, splits, worker).best_booster(study)
        rounds = fitted.best_iteration or fitted.current_iteration()
        refit(settings, OBJECTIVE, splits, study.best_params, rounds)
        refit_s = time.time() - ended
    results.put(
        {
            "began": began,
            "ended": ended,
            "refit_s": refit_s,
            "rss": _peak(),
            "rss_before": before,
            "train_rows": len(splits.y["train"]),
        }
    )


def tune_with(settings, clean_file: Path, workers: int) -> list[dict]:
    """Every worker's figures of one study tuned by `workers` processes (the first also
    refits when it is alone)."""
    name = f"scaling-{uuid.uuid4().hex[:8]}"
    plan = TuningPlan(settings.optuna_trials, settings.optuna_timeout_s, None, "benchmark")
    from pipeline.study import storage, storage_url

    prepare_study(settings, OBJECTIVE, plan, name, storage(settings, storage_url(settings)))
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(workers), context.Queue()
    processes = [
        context.Process(
            target=_worker,
            args=(clean_file, settings, name, w, workers == 1, barrier, results),
        )
        for w in range(workers)
    ]
    for process in processes:
        process.start()
    figures = [results.get() for _ in processes]
    for process in processes:
        process.join()
    return figures


def pod_memory_limit() -> tuple[int, str]:
    """The KubernetesExecutor task pods' memory limit: prod.yaml's if it sets one."""
    limit = None
    for layer in ("values.yaml", "values/prod.yaml"):
        values = yaml.safe_load((ROOT / layer).read_text()) or {}
        found = values.get("airflow", {}).get("workers", {}).get("resources", {})
        limit = found.get("limits", {}).get("memory", limit)
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
    return int(float(limit[:-2]) * units[limit[-2:]]), limit


@contextlib.contextmanager
def _throwaway_schema(url: str):
    """A schema of its own on `url`'s database for the benchmark's studies, dropped after."""
    schema = f"scaling_{uuid.uuid4().hex[:8]}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    finally:
        with engine.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12, help="trial budget of each study")
    parser.add_argument("--sizes", default=",".join(SIZES), help="of " + ",".join(SIZES))
    parser.add_argument("--db-url", default=DB_URL, help="PostgreSQL for the studies")
    args = parser.parse_args()
    base = PipelineSettings()
    with _throwaway_schema(args.db_url) as storage_url:
        run(args, base, storage_url.render_as_string(hide_password=False))


def run(args, base: PipelineSettings, storage_url: str) -> None:
    settings = base.model_copy(
        update={
            "optuna_storage_url": storage_url,
            "optuna_trials": args.trials,
            # The budget, not the clock, ends every study: the same trials for 1 and 2 workers.
            "optuna_timeout_s": 24 * 3600.0,
            "lightgbm_threads": 1,
        }
    )
    year = raw_year()
    limit, limit_text = pod_memory_limit()
    print(
        f"trials {args.trials}, tuning rows {settings.optuna_tuning_rows:,}, max rounds "
        f"{settings.lightgbm_max_rounds}, 1 LightGBM thread per worker\n"
        f"{'size':<5} {'raw rows':>10} {'train rows':>10} {'prep s':>7} {'tune 1w s':>9} "
        f"{'tune 2w s':>9} {'2w/1w':>6} {'refit s':>8} {'peak RSS MiB':>12} {'B/row':>6}",
        flush=True,
    )
    measured = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes.split(","):
            raw = raw_of(year, SIZES[size], base.pipeline_seed)
            began = time.monotonic()
            clean = preprocess(raw, base)
            prep_s = time.monotonic() - began
            clean_file = Path(tmp) / f"{size}.parquet"
            clean.to_parquet(clean_file)
            del clean
            [one] = tune_with(settings, clean_file, 1)
            two = tune_with(settings, clean_file, 2)
            one_s = one["ended"] - one["began"]
            two_s = max(w["ended"] for w in two) - min(w["began"] for w in two)
            per_row = max(one["rss"] - one["rss_before"], 0) / one["train_rows"]
            measured.append(one)
            print(
                f"{size:<5} {len(raw):>10,} {one['train_rows']:>10,} {prep_s:>7.1f} "
                f"{one_s:>9.1f} {two_s:>9.1f} {two_s / one_s:>6.2f} {one['refit_s']:>8.1f} "
                f"{one['rss'] / 2**20:>12,.0f} {per_row:>6,.0f}",
                flush=True,
            )
    if len(measured) >= 2:
        # What each further row costs: the slope between the two largest sizes (the small
        # ones' bytes per row are mostly the fixed cost of the libraries spread thin).
        small, large = measured[-2], measured[-1]
        slope = (large["rss"] - small["rss"]) / (large["train_rows"] - small["train_rows"])
        rows = large["train_rows"] + (limit - large["rss"]) / slope
        print(
            f"task pod memory limit {limit_text}: reached at about {rows:,.0f} training rows "
            f"({slope:,.0f} B per further training row, the slope between the two largest "
            "sizes; the train task's backtest, SHAP and upload come on top)"
        )


if __name__ == "__main__":
    main()
