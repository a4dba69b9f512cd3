"""Names of the platform the plugin relies on.

The plugin installs from its own folder into its own small virtual environment, without
the workspace, so it cannot import `proyecto4_common`; these values mirror
`proyecto4_common.names` (every name here is defined there with the same value, which
tests/plugin/test_plugin_names.py checks). Edit common first, then copy here.
"""

DAG_ID = "project_pipeline"
MODEL_NAME = "flight-delay"
PRODUCTION_ALIAS = "production"
RUN_METRICS = ("val_accuracy", "val_auroc", "test_accuracy", "test_auroc")
PREDICT_REQUESTS_TOTAL = "predict_requests_total"
CATEGORIES = {0: "on time", 1: "delayed"}
# The inference API's credentials: the admin token POST /load_model/ needs (promote and
# rollback reload the API), and an API key /predict/ may need (smoke).
ADMIN_TOKEN_ENV = "INFERENCE_API_ADMIN_TOKEN"
API_KEY_ENV = "INFERENCE_API_KEY"

# Model-version tags. The pipeline's register_champion_model writes TAG_PROMOTION (a
# promoted or kept-out decision text), TAG_DECIDED_AT and, on a promotion that
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

# Backups: the layout one backup has wherever it lives (an S3 prefix or a folder), shared
# by the chart's backup CronJob (files/backup/backup.sh) and `helm proyecto4 backup`.
# A backup is <location>/<id>/ with the id a UTC timestamp (BACKUP_ID_FORMAT); the manifest
# is written last, so a folder without one is an unfinished backup.
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
