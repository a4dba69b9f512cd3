"""What a trained model can be expected to do in production, measured forward in time.

- `backtest`: the chosen parameters retrained for each of the newest weeks on every row
  before it and scored on that week (rolling origin, as scikit-learn's TimeSeriesSplit and
  sktime's backtesting do): the mean and spread of those weekly AUROCs are the model's
  expected live AUROC and the band live quality is judged against.
- `random_split_auroc`: the test AUROC a stratified random split of the same rows gives,
  logged once beside the forward one so that its optimism is visible.
- `fit_calibration`: a sigmoid (Platt) map fitted on the test days, the newest days the
  registered model never saw, which performance estimation (CBPE) needs; the served
  probabilities stay the model's own.
- `reference_drift`: the spread of input drift between windows of the training days, from
  which the drift trigger's threshold follows (mean + k sd), as NannyML derives its alert
  bands from reference chunks.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from proyecto4_common.drift import feature_bins, psi_by_feature
from proyecto4_common.feature_spec import Calibration, FeatureSpec
from proyecto4_common.names import DECISION_THRESHOLD
from sklearn.metrics import roc_auc_score

from pipeline.features import CALENDAR_FEATURES, FEATURES, TARGET
from pipeline.quality import expected_calibration_error

log = logging.getLogger(__name__)

# A fold whose earlier rows are fewer than this trains a model unlike the one served.
MIN_FOLD_TRAIN_ROWS = 1000


def probabilities(booster: lgb.Booster, X: pd.DataFrame) -> np.ndarray:
    return booster.predict(X.to_numpy(), num_iteration=booster.best_iteration or None)


def score(kind: str, y: np.ndarray, probability: np.ndarray) -> float:
    """accuracy or auroc of `probability` against the labels `y`."""
    if kind == "accuracy":
        return float(np.mean((probability >= DECISION_THRESHOLD) == y))
    return float(roc_auc_score(y, probability))


def scores_of(y: np.ndarray, probability: np.ndarray) -> dict[str, float]:
    return {kind: score(kind, y, probability) for kind in ("accuracy", "auroc")}


def scores(booster: lgb.Booster, X: pd.DataFrame, y: np.ndarray) -> dict[str, float]:
    return scores_of(y, probabilities(booster, X))


def training_set(X: pd.DataFrame, y: np.ndarray, spec: FeatureSpec, **kwargs) -> lgb.Dataset:
    """Encoded rows as LightGBM trains on them, categorical features marked."""
    return lgb.Dataset(
        X.to_numpy(),
        y,
        feature_name=list(FEATURES),
        categorical_feature=[f.name for f in spec.features if f.kind == "categorical"],
        params={"feature_pre_filter": False},
        **kwargs,
    )


@dataclass
class Fold:
    start: date  # the fold's first and last day, scored
    end: date
    train_rows: int  # rows of every earlier day, trained on
    rows: int
    auroc: float | None  # None when the week holds one class only


@dataclass
class Backtest:
    folds: list[Fold]
    mean: float | None
    sd: float | None  # None below two scored folds

    def to_json(self) -> str:
        return json.dumps(
            {
                "folds": [
                    {**asdict(f), "start": f.start.isoformat(), "end": f.end.isoformat()}
                    for f in self.folds
                ],
                "mean": self.mean,
                "sd": self.sd,
            },
            indent=2,
        )


def fold_windows(days: pd.Series, folds: int, fold_days: int) -> list[tuple[date, date]]:
    """The newest `folds` windows of `fold_days` days, newest first, ending on the newest day."""
    newest = pd.Timestamp(days.max()).date()
    return [
        (
            newest - timedelta(days=(i + 1) * fold_days - 1),
            newest - timedelta(days=i * fold_days),
        )
        for i in range(folds)
    ]


def backtest(
    X: pd.DataFrame,
    y: np.ndarray,
    days: pd.Series,
    spec: FeatureSpec,
    params: dict,
    rounds: int,
    folds: int,
    fold_days: int,
) -> Backtest:
    """Rolling origin: for each of the newest `folds` windows, a model with `params` and
    `rounds` trees trained on every earlier day, scored on the window. No re-tuning per fold:
    it measures the parameters that will serve, at the data sizes just before."""
    day = pd.to_datetime(days).dt.date.to_numpy()
    results = []
    for start, end in fold_windows(days, folds, fold_days):
        before, inside = day < start, (day >= start) & (day <= end)
        if before.sum() < MIN_FOLD_TRAIN_ROWS or not inside.any():
            continue
        booster = lgb.train(
            params, training_set(X[before], y[before], spec), num_boost_round=max(rounds, 1)
        )
        truth = y[inside]
        auroc = (
            float(roc_auc_score(truth, booster.predict(X[inside].to_numpy())))
            if len(np.unique(truth)) == 2
            else None
        )
        results.append(Fold(start, end, int(before.sum()), int(inside.sum()), auroc))
    scored = [f.auroc for f in results if f.auroc is not None]
    mean = float(np.mean(scored)) if scored else None
    sd = float(np.std(scored, ddof=1)) if len(scored) >= 2 else None
    return Backtest(results, mean, sd)


def backtest_plot(result: Backtest, test_auroc: float, path: Path, k: float) -> Path:
    """Per-fold AUROC against the fold's week, the mean and the band (mean - k sd)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folds = sorted(result.folds, key=lambda f: f.start)
    figure, axis = plt.subplots(figsize=(6, 3.2))
    axis.plot(
        [f.start for f in folds], [f.auroc for f in folds], "o-", color="#1f4e79", label="fold"
    )
    if result.mean is not None:
        axis.axhline(result.mean, color="#1f4e79", ls="--", lw=1, label="backtest mean")
    if result.mean is not None and result.sd is not None:
        axis.axhline(result.mean - k * result.sd, color="#c0504d", ls=":", label=f"mean - {k:g} sd")
    axis.axhline(test_auroc, color="gray", ls="-.", lw=1, label="forward test AUROC")
    axis.set_ylabel("AUROC")
    axis.set_title("Backtest: each week scored by a model of the days before it", fontsize=9)
    axis.legend(fontsize=7)
    axis.grid(alpha=0.3)
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def random_split_auroc(
    X: pd.DataFrame,
    y: np.ndarray,
    spec: FeatureSpec,
    params: dict,
    rounds: int,
    validation: float,
    test: float,
    seed: int,
) -> float:
    """The test AUROC of the same parameters and trees on a stratified random split of the
    same rows, fitted on its train and validation parts as the registered model is on the
    forward ones: what the platform reported before it split forward in time."""
    from pipeline.preprocess import split

    frame = X.assign(**{TARGET: y})
    parts = split(frame, validation, test, seed)
    fit, held = parts["dataset"] != "test", parts["dataset"] == "test"
    booster = lgb.train(
        params,
        training_set(parts.loc[fit, list(FEATURES)], parts.loc[fit, TARGET].to_numpy(), spec),
        num_boost_round=max(rounds, 1),
    )
    return scores(booster, parts.loc[held, list(FEATURES)], parts.loc[held, TARGET].to_numpy())[
        "auroc"
    ]


# Where the sigmoid map is tabulated: even steps in log-odds from p = 0.0001 to 0.9999.
CALIBRATION_GRID = 1 / (1 + np.exp(-np.linspace(-9.2, 9.2, 185)))


def fit_calibration(y: np.ndarray, probability: np.ndarray) -> Calibration:
    """Platt scaling: a logistic regression of the outcome on the probability's log-odds,
    tabulated for the spec. Strictly monotone and smooth, so it keeps every ranking (AUROC)
    and the spread CBPE reads; isotonic regression's flat steps tie distinct probabilities
    and made CBPE read about 0.08 too low."""
    from sklearn.linear_model import LogisticRegression

    def log_odds(p: np.ndarray) -> np.ndarray:
        p = np.clip(p, 1e-6, 1 - 1e-6)
        return np.log(p / (1 - p))

    fit = LogisticRegression(C=1e6).fit(log_odds(probability)[:, None], y)
    calibrated = fit.predict_proba(log_odds(CALIBRATION_GRID)[:, None])[:, 1]
    return Calibration(
        method="sigmoid",
        x=[float(v) for v in CALIBRATION_GRID],
        y=[float(v) for v in calibrated],
    )


def calibration_errors(y: np.ndarray, probability: np.ndarray, seed: int) -> tuple[float, float]:
    """Expected calibration error of `probability` as it is, and after a calibration fitted
    on the other half of the rows (two-fold cross-fitting: no row is calibrated by a map
    fitted on itself)."""
    half = np.random.default_rng(seed).random(len(y)) < 0.5
    calibrated = np.empty_like(probability, dtype=np.float64)
    for fit_on in (half, ~half):
        calibrated[~fit_on] = fit_calibration(y[fit_on], probability[fit_on]).apply(
            probability[~fit_on]
        )
    return (
        expected_calibration_error(y, probability),
        expected_calibration_error(y, calibrated),
    )


@dataclass
class ReferenceDrift:
    windows: int
    mean: float | None
    sd: float | None


def reference_drift(
    X: pd.DataFrame, days: pd.Series, spec: FeatureSpec, window_days: int
) -> ReferenceDrift:
    """The input drift measure (largest PSI of a non-calendar feature, as pipeline.drift
    computes it for the newest days) of each `window_days` window of the reference days
    against the reference histograms of `spec`: how far ordinary windows stray."""
    bins = [b for b in feature_bins(spec) if b.name not in CALENDAR_FEATURES]
    day = pd.to_datetime(days).dt.date
    ordered = sorted(day.unique(), reverse=True)
    values = []
    for i in range(0, len(ordered) - window_days + 1, window_days):
        inside = day.isin(ordered[i : i + window_days]).to_numpy()
        matrix = X[inside].to_numpy(dtype="float64")
        values.append(max(psi_by_feature(bins, matrix).values()))
    return ReferenceDrift(
        len(values),
        float(np.mean(values)) if values else None,
        float(np.std(values, ddof=1)) if len(values) >= 2 else None,
    )
