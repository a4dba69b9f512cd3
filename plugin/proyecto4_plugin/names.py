"""Names of the platform the plugin relies on.

The plugin installs from its own folder into its own small virtual environment, without
the workspace, so it cannot import `proyecto4_common`; these values mirror
`proyecto4_common.names` and tests/plugin/test_names.py keeps the two equal.
"""

DAG_ID = "project_pipeline"
MODEL_NAME = "flight-delay"
PRODUCTION_ALIAS = "production"
RUN_METRICS = ("val_accuracy", "val_auroc", "test_accuracy", "test_auroc")
PREDICT_REQUESTS_TOTAL = "predict_requests_total"
CATEGORIES = {0: "on time", 1: "delayed"}
PORTS = {"api": 8989, "mlflow": 5000, "airflow": 8080}

# Model-version tags the plugin writes: the promotion ledger proper is a table in the data
# database, which the plugin cannot reach from outside the cluster, so manual promotions
# and rollbacks are recorded on the version itself.
TAG_PROMOTION = "promotion"
TAG_PROMOTED_AT = "promoted_at"
TAG_PROMOTED_BY = "promoted_by"
TAG_PREVIOUS_PRODUCTION = "previous_production"
# Set on the version a rollback moved away from: later rollbacks never go back to it.
TAG_ROLLED_BACK_AT = "rolled_back_at"
# What the pipeline's register_champion_model writes: `promotion` = "promoted: <reason>" on
# the versions it moved to production, with the time in `decided_at`.
TAG_DECIDED_AT = "decided_at"
PIPELINE_PROMOTED_PREFIX = "promoted:"
