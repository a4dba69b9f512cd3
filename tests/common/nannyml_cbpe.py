"""NannyML's CBPE estimate of ROC AUC for the inputs in a JSON file; prints it as JSON.

Runs under NannyML's own environment (ci/install-nannyml.sh), never the workspace's:
`python nannyml_cbpe.py INPUT.json` with INPUT holding reference_p, reference_y, analysis_p.
"""

import json
import os
import sys
from pathlib import Path

# Set before the import: NannyML reads it when it starts reporting usage.
os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"

import nannyml
import pandas as pd
from nannyml.calibration import NoopCalibrator

data = json.loads(Path(sys.argv[1]).read_text())
reference = pd.DataFrame({"p": data["reference_p"], "y": data["reference_y"]})
analysis = pd.DataFrame({"p": data["analysis_p"]})
for frame in (reference, analysis):
    frame["y_pred"] = (frame["p"] >= 0.5).astype(int)
# The probabilities given are already calibrated, as ours are when the API estimates.
# NannyML would otherwise fit its own isotonic map on the reference whenever that lowers the
# calibration error there (by chance, too), and estimate on other numbers than ours.
estimator = nannyml.CBPE(
    metrics=["roc_auc"],
    y_pred_proba="p",
    y_pred="y_pred",
    y_true="y",
    problem_type="classification_binary",
    chunk_number=1,
    calibrator=NoopCalibrator(),
)
estimator.fit(reference)
result = estimator.estimate(analysis).filter(period="analysis").to_df()
print(json.dumps({"estimated_auroc": float(result[("roc_auc", "value")].iloc[0])}))
