"""Names other parts rely on (design.md, "Names that other parts rely on").

Defined once here; the DAG, the API, the UI, the chart tests and the plugin import them.
"""

DAG_ID = "project_pipeline"
MODEL_NAME = "flight-delay"
PRODUCTION_ALIAS = "production"

# Users of MLflow's basic-auth: the admin (user management, the plugin's promote/rollback),
# the pipeline (writes runs and model versions), the API and the UI (read only).
MLFLOW_ADMIN_USER = "admin"
MLFLOW_PIPELINE_USER = "pipeline"
MLFLOW_READER_USER = "reader"

# MLflow metrics of every training run.
VAL_ACCURACY = "val_accuracy"
VAL_AUROC = "val_auroc"
TEST_ACCURACY = "test_accuracy"
TEST_AUROC = "test_auroc"
RUN_METRICS = (VAL_ACCURACY, VAL_AUROC, TEST_ACCURACY, TEST_AUROC)
# Forward evaluation beside them (pipeline/evaluation.py): the rolling-origin backtest's
# weekly AUROC (mean and standard deviation over its folds), the model's expected live
# quality; the test AUROC a stratified random split of the same rows gives (the optimism a
# random split hides); the test split's expected calibration error before and after the
# calibration fitted on validation.
BACKTEST_AUROC_MEAN = "backtest_auroc_mean"
BACKTEST_AUROC_SD = "backtest_auroc_sd"
RANDOM_SPLIT_TEST_AUROC = "random_split_test_auroc"
TEST_CALIBRATION_ERROR_RAW = "test_calibration_error_raw"
TEST_CALIBRATION_ERROR = "test_calibration_error"
# The drift measure's mean and spread over windows of the training days: the drift
# trigger's threshold is mean + k sd.
REFERENCE_PSI_MEAN = "reference_psi_mean"
REFERENCE_PSI_SD = "reference_psi_sd"

# Run artifacts besides the model.
MODEL_ARTIFACT_PATH = "model"
FEATURE_SPEC_FILE = "feature_spec.json"
SHAP_SUMMARY_PLOT = "shap/summary.png"
SHAP_BAR_PLOT = "shap/bar.png"
# The backtest's folds (per-fold AUROC, rows, days) and their plot.
BACKTEST_FILE = "backtest/backtest.json"
BACKTEST_PLOT = "backtest/backtest.png"

# Tables in the data database.
RAW_TABLE = "raw_data"
CLEAN_TABLE = "clean_data"
INFERENCE_LOG_TABLE = "inference_log"
INGESTION_LEDGER_TABLE = "ingestion_ledger"
PROMOTION_LEDGER_TABLE = "promotion_ledger"
# Live quality per flight day and model version: served predictions joined with outcomes.
MODEL_QUALITY_TABLE = "model_quality"
# Input drift per ingested day against the production model's training reference.
INPUT_DRIFT_TABLE = "input_drift"

# Model-version tags. The pipeline's register_champion_model writes TAG_PROMOTION (a
# PROMOTED_PREFIX or KEPT_OUT_PREFIX decision text), TAG_DECIDED_AT and, on a promotion that
# replaces a version, TAG_PREVIOUS_PRODUCTION: the chain `helm proyecto4 rollback` follows.
# The plugin writes the manual promotions and rollbacks on the version itself (it cannot
# reach the data DB's promotion ledger from outside the cluster).
TAG_PROMOTION = "promotion"
TAG_DECIDED_AT = "decided_at"
TAG_PREVIOUS_PRODUCTION = "previous_production"
TAG_PROMOTED_AT = "promoted_at"
TAG_PROMOTED_BY = "promoted_by"
# Set on the version a rollback moved away from: later rollbacks never go back to it.
TAG_ROLLED_BACK_AT = "rolled_back_at"
PIPELINE_PROMOTED_PREFIX = "promoted:"
PIPELINE_KEPT_OUT_PREFIX = "kept out:"

# A probability at or above this is class 1 ("delayed"): the API, the registered model and
# the pipeline's accuracy all decide with it.
DECISION_THRESHOLD = 0.5

# The answer shown to users for each class of the binary target.
CATEGORIES = {0: "on time", 1: "delayed"}

# The inference API's endpoints its clients call (the UI, Locust, the replayer, the scenario).
PREDICT_PATH = "/predict/"
LOAD_MODEL_PATH = "/load_model/"

# Prometheus metrics of the inference API.
PREDICT_REQUESTS_TOTAL = "predict_requests_total"
PREDICT_LATENCY_SECONDS = "predict_latency_seconds"

# Default ports.
PORTS = {
    "api": 8989,
    "ui": 8501,
    "mlflow": 5000,
    "data-source": 8000,
    "airflow": 8080,
    "prometheus": 9090,
    "grafana": 3000,
}

# The rest of the API's metrics (dashboards and alert rules query these names).
PREDICTIONS_TOTAL = "predictions_total"  # label predicted_class: "on time" | "delayed"
SERVED_MODEL_VERSION = "served_model_version"  # gauge: version number in service, 0 = none
MODEL_LOADED = "model_loaded"  # gauge: 1 when a model serves, else 0
INFERENCE_LOG_ROWS_WRITTEN = "inference_log_rows_written_total"
INFERENCE_LOG_ROWS_BUFFERED = "inference_log_rows_buffered"  # gauge
INFERENCE_LOG_ROWS_DROPPED = "inference_log_rows_dropped_total"
# Seconds requests spent waiting for room in a full inference_log buffer (DB slower than traffic).
INFERENCE_LOG_WAIT_SECONDS = "inference_log_wait_seconds_total"
FEATURE_DRIFT_PSI = "feature_drift_psi"  # gauge, label feature
# Requests refused for a missing or wrong credential; labels endpoint, reason
# (missing | wrong | not_configured).
AUTH_REFUSALS_TOTAL = "auth_refusals_total"

# Credentials of the inference API, read from the environment by the API itself and by its
# clients (UI, plugin, CLI) under the same names. The admin token guards POST /load_model/;
# the API accepts INFERENCE_API_API_KEYS (several, for rotation) on /predict/, and a client
# sends one of them as INFERENCE_API_KEY.
ADMIN_TOKEN_ENV = "INFERENCE_API_ADMIN_TOKEN"
API_KEYS_ENV = "INFERENCE_API_API_KEYS"
API_KEY_ENV = "INFERENCE_API_KEY"
# File under PROYECTO4_HOME where the local CLI keeps the admin token it generated.
ADMIN_TOKEN_FILE = "inference-api-admin-token"

# Live quality (gauges per model_version, from model_quality; the API exports them).
MODEL_LIVE_AUROC = "model_live_auroc"
MODEL_LIVE_ACCURACY = "model_live_accuracy"
MODEL_LIVE_LOG_LOSS = "model_live_log_loss"
MODEL_LIVE_CALIBRATION_ERROR = "model_live_calibration_error"
MODEL_LIVE_LABELLED = "model_live_labelled_predictions"
MODEL_LIVE_AUROC_LOW = "model_live_auroc_low"  # 95 % interval of the newest day's live AUROC
MODEL_LIVE_AUROC_HIGH = "model_live_auroc_high"
MODEL_TEST_AUROC = "model_test_auroc"  # the version's forward test AUROC from training
# The version's backtest: its mean weekly AUROC and the band's lower edge (mean - k sd),
# below which live quality counts as decayed.
MODEL_BACKTEST_AUROC = "model_backtest_auroc"
MODEL_BACKTEST_AUROC_LOW = "model_backtest_auroc_low"
# AUROC estimated from the served probabilities alone (CBPE), before outcomes arrive: the
# API's window of recent predictions per version.
MODEL_ESTIMATED_AUROC = "model_estimated_auroc"
# Retraining runs recorded in the promotion ledger, label kind (always, quality_decayed, ...).
MODEL_RETRAINS = "model_retrains"

# Backups: the layout one backup has wherever it lives (an S3 prefix or a folder), shared by
# the chart's backup CronJob (files/backup/backup.sh) and `helm proyecto4 backup`. A backup
# is <location>/<id>/ with the id a UTC timestamp (BACKUP_ID_FORMAT); the manifest is written
# last, so a folder without one is an unfinished backup.
BACKUP_ID_FORMAT = "%Y%m%dT%H%M%SZ"
BACKUP_MANIFEST = "manifest.json"
# Per-file checksums of everything else in the backup, in `sha256sum` format.
BACKUP_CHECKSUMS = "SHA256SUMS"
# part -> (kind, file or folder in the backup).
BACKUP_PARTS = {
    "data": ("postgresql", "data.pgdump"),
    "airflow": ("postgresql", "airflow.pgdump"),
    "mlflow": ("mysql", "mlflow.sql.gz"),
    "artifacts": ("objects", "artifacts"),
}
# The backup CronJob's label and its containers (one per tool image), in backup order; a
# restore runs the same containers in RESTORE_STEPS order (fetch first, then load).
BACKUP_COMPONENT = "backup"
BACKUP_STEPS = ("postgresql", "mysql", "objects")
RESTORE_STEPS = ("objects", "postgresql", "mysql")
