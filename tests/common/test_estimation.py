"""AUROC intervals and CBPE (proyecto4_common.estimation): against hand computations, against
realized AUROC on calibrated data, and against NannyML itself run from its own environment."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from proyecto4_common.estimation import auroc_interval, estimated_auroc
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parents[2]
NANNYML_REQUIREMENTS = ROOT / "ci" / "nannyml-requirements.txt"
NANNYML_CBPE = Path(__file__).with_name("nannyml_cbpe.py")
NANNYML = ["uvx", "--offline", "--with-requirements", str(NANNYML_REQUIREMENTS), "python"]


def test_the_interval_matches_a_hand_computation():
    # A = 0.8, 50 positives, 100 negatives:
    #   Q1 = A/(2-A) = 0.8/1.2 = 2/3;  Q2 = 2A²/(1+A) = 1.28/1.8 = 32/45
    #   A(1-A)         = 0.16
    #   (P-1)(Q1-A²)   = 49 · (2/3 - 0.64)  = 49 · 2/75    = 1.306667
    #   (N-1)(Q2-A²)   = 99 · (32/45 - 0.64) = 99 · 3.2/45 = 7.04
    #   SE² = (0.16 + 1.306667 + 7.04) / (50 · 100) = 8.506667 / 5000 = 0.00170133
    #   SE = 0.0412472;  1.959964 · SE = 0.0808431
    low, high = auroc_interval(0.8, positives=50, negatives=100)

    assert low == pytest.approx(0.8 - 0.0808431, abs=1e-6)
    assert high == pytest.approx(0.8 + 0.0808431, abs=1e-6)


def test_the_interval_narrows_with_more_rows_and_stays_within_0_and_1():
    small = auroc_interval(0.7, positives=20, negatives=80)
    large = auroc_interval(0.7, positives=200, negatives=800)

    assert large[1] - large[0] < small[1] - small[0]
    # A = 0.98 on 3 + 3 rows: SE ≈ 0.06, so 0.98 + 1.96 SE would pass 1.
    assert auroc_interval(0.98, positives=3, negatives=3)[1] == 1.0
    assert auroc_interval(0.02, positives=3, negatives=3)[0] == 0.0
    assert auroc_interval(1.0, positives=10, negatives=10) == (1.0, 1.0)


@pytest.mark.parametrize(
    "auroc, positives, negatives, message",
    [
        (0.7, 0, 40, "at least one positive and one negative"),
        (0.7, 40, 0, "at least one positive and one negative"),
        (1.2, 40, 40, "within"),
        (math.nan, 40, 40, "within"),
    ],
)
def test_an_interval_of_an_auroc_that_cannot_exist_is_refused(auroc, positives, negatives, message):
    with pytest.raises(ValueError, match=message):
        auroc_interval(auroc, positives, negatives)


def test_cbpe_matches_a_hand_computation():
    # p = 0.8, 0.4: expected positives 1.2, negatives 0.8. At threshold 0.8 the expected
    # TP is 0.8 (TPR 2/3) and FP 0.2 (FPR 1/4); at 0.4 both rates are 1.
    # Area: 1/4 · (0 + 2/3)/2 + 3/4 · (2/3 + 1)/2 = 1/12 + 5/8 = 17/24.
    assert estimated_auroc([0.4, 0.8]) == pytest.approx(17 / 24)


@pytest.mark.parametrize(
    "probabilities",
    [[], [0.3], [0.0, 0.0, 0.0], [1.0, 1.0], [math.nan, 0.4]],
    ids=["empty", "one row", "no positive expected", "no negative expected", "one finite"],
)
def test_cbpe_has_no_estimate_without_a_curve(probabilities):
    assert estimated_auroc(probabilities) is None


def test_ties_count_as_one_threshold_whatever_their_order():
    tied = np.array([0.2, 0.6, 0.6, 0.6, 0.9, 0.2, 0.6])

    assert estimated_auroc(tied) == pytest.approx(estimated_auroc(tied[::-1]))
    assert estimated_auroc(tied) == pytest.approx(estimated_auroc(np.sort(tied)))


def test_on_calibrated_probabilities_the_estimate_is_the_realized_auroc():
    rng = np.random.default_rng(23)
    p = rng.beta(2, 5, 200_000)
    # Calibrated by construction: each row is a positive with its probability.
    y = rng.random(len(p)) < p

    assert estimated_auroc(p) == pytest.approx(roc_auc_score(y, p), abs=0.005)


def test_miscalibrated_probabilities_are_estimated_wrongly():
    # Why the API calibrates first: the same ranking, overconfident, promises a better AUROC
    # than the outcomes give.
    rng = np.random.default_rng(23)
    p = rng.beta(2, 5, 200_000)
    y = rng.random(len(p)) < p
    overconfident = p**3 / (p**3 + (1 - p) ** 3)

    assert estimated_auroc(overconfident) > roc_auc_score(y, overconfident) + 0.03


def _nannyml_estimate(tmp_path: Path, inputs: dict) -> float:
    if not shutil.which("uvx"):
        pytest.fail("uvx not found: NannyML runs with uvx (uv is part of the toolchain)")
    path = tmp_path / "cbpe-inputs.json"
    path.write_text(json.dumps(inputs))
    result = subprocess.run(
        [*NANNYML, str(NANNYML_CBPE), str(path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NML_DISABLE_USAGE_LOGGING": "1"},
    )
    if result.returncode != 0:
        message = f"NannyML did not run: {result.stderr[-800:]}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (run ci/install-nannyml.sh first)")
        pytest.skip(message + " (run ci/install-nannyml.sh to cache it)")
    return json.loads(result.stdout.strip().splitlines()[-1])["estimated_auroc"]


def test_cbpe_equals_nannyml(tmp_path):
    rng = np.random.default_rng(5)
    reference = rng.beta(2, 5, 5_000)
    # The analysis chunk is shifted (so the estimate differs from the reference's) and half
    # of it sits on a few levels, as isotonic calibration leaves served probabilities: ties.
    analysis = rng.beta(2, 3, 3_000)
    analysis[::2] = np.round(analysis[::2], 1)
    inputs = {
        "reference_p": reference.tolist(),
        "reference_y": (rng.random(len(reference)) < reference).astype(int).tolist(),
        "analysis_p": analysis.tolist(),
    }

    theirs = _nannyml_estimate(tmp_path, inputs)

    assert 0.6 < theirs < 0.9
    assert estimated_auroc(analysis) == pytest.approx(theirs, abs=0.01)
