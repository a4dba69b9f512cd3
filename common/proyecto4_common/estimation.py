"""Quality figures with their uncertainty, and quality estimated before outcomes arrive.

Numpy only: the inference API imports this and has neither pandas nor scikit-learn.

- `estimated_auroc`: confidence-based performance estimation (CBPE) of ROC AUC as NannyML
  defines it. A calibrated probability p says a row is a positive with probability p, so at
  any threshold the rows at or above it contribute p to the expected true positives and
  1 - p to the expected false positives; the expected ROC curve through every threshold,
  integrated by the trapezoid rule, is the AUROC the outcomes will most likely show.
- `auroc_interval`: Hanley & McNeil's (1982) normal interval of an AUROC from its class
  counts, for realized AUROC (model_quality) and backtest folds alike.
"""

from __future__ import annotations

import math

import numpy as np

Z_95 = 1.959964


def estimated_auroc(calibrated_probabilities) -> float | None:
    """Expected AUROC of rows whose calibrated probabilities of being positive are given.

    None when fewer than 2 finite probabilities are left, or when they expect no positive
    or no negative at all (every p 0, or every p 1): then no ROC curve exists, as with
    realized AUROC on a one-class day. Non-finite values are left out, as NannyML drops
    missing ones.
    """
    p = np.asarray(calibrated_probabilities, dtype=np.float64).ravel()
    p = p[np.isfinite(p)]
    if len(p) < 2:
        return None
    # Descending: the curve starts at the highest threshold, where nothing is predicted.
    p = np.sort(np.clip(p, 0.0, 1.0))[::-1]
    tp = np.cumsum(p)
    fp = np.cumsum(1.0 - p)
    positives, negatives = tp[-1], fp[-1]
    if positives <= 0 or negatives <= 0:
        return None
    # One point of the curve per distinct threshold: the last row of each run of equal
    # probabilities. (Within such a run every step is (p, 1 - p), a straight segment, so
    # NannyML's one point per row gives the same area.)
    last_of_run = np.r_[p[1:] != p[:-1], True]
    tpr = np.r_[0.0, tp[last_of_run] / positives]
    fpr = np.r_[0.0, fp[last_of_run] / negatives]
    area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))
    return min(max(area, 0.0), 1.0)


def auroc_interval(
    auroc: float, positives: int, negatives: int, z: float = Z_95
) -> tuple[float, float]:
    """Hanley-McNeil interval `auroc ± z·SE`, clipped to [0, 1].

    SE² = (A(1-A) + (P-1)(Q1-A²) + (N-1)(Q2-A²)) / (P·N) with Q1 = A/(2-A), Q2 = 2A²/(1+A).

    Raises ValueError when a class count is below 1 or the AUROC is not in [0, 1]: no AUROC
    exists without both classes, and a caller that computed one anyway has a bug that a NaN
    would carry silently into the model_quality table and the alerts.
    """
    if positives < 1 or negatives < 1:
        raise ValueError(
            f"an AUROC interval needs at least one positive and one negative, "
            f"got {positives} positives and {negatives} negatives"
        )
    if not 0.0 <= auroc <= 1.0:
        raise ValueError(f"AUROC must be within [0, 1], got {auroc}")
    a = float(auroc)
    q1 = a / (2.0 - a)
    q2 = 2.0 * a * a / (1.0 + a)
    variance = (a * (1.0 - a) + (positives - 1) * (q1 - a * a) + (negatives - 1) * (q2 - a * a)) / (
        positives * negatives
    )
    # Rounding can leave a hair below 0 at A = 0 or 1, where the variance is 0.
    half = z * math.sqrt(max(variance, 0.0))
    return max(a - half, 0.0), min(a + half, 1.0)
