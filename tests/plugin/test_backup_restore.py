"""The backup drill on real stores: `helm proyecto4 backup` and `restore` in URL mode.

A platform of its own: the data and Airflow databases on the machine's PostgreSQL (Airflow's
migrated by `airflow db migrate`), MLflow's store on a fresh MariaDB database with its
artifacts in moto's S3 server, a pipeline run (small budget) and predictions through a real
inference API. Then: back up to an S3 prefix, drop the databases and empty the bucket,
restore, and find every table, model version, alias, tag and artifact equal; the API loads
`production` from the restored stores and answers the same probabilities.

Durations and sizes go to test-artifacts/backup-drill.txt.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from backup_databases import drop_database, new_database
from helm_plugin_env import PLUGIN_ADMIN_TOKEN, REPO
from proyecto4_common.feature_spec import FeatureSpec
from proyecto4_common.names import (
    INFERENCE_LOG_TABLE,
    MODEL_NAME,
    PRODUCTION_ALIAS,
    PROMOTION_LEDGER_TABLE,
)
from servers import BIN, MOTO_KEYS, mlflow_server, s3_server, uvicorn_app
from trained import TRAINED_WINDOW, run_pipeline_steps, small_budget

# It trains a model of its own: left out of the Helm 3 pass like the tests that need the
# shared trained model (the helm version plays no part in a URL-mode drill).
pytestmark = pytest.mark.trained

ARTIFACTS_BUCKET, BACKUP_BUCKET = "mlflow", "backups"
REPORT = REPO / "test-artifacts" / "backup-drill.txt"


def table_digests(url: str) -> dict[str, tuple[int, str]]:
    """Every table of the database: (rows, sha256 of its rows in a stable order)."""
    engine = sa.create_engine(url)
    digests = {}
    try:
        with engine.connect() as conn:
            for table in sa.inspect(conn).get_table_names():
                rows = sorted(
                    repr(tuple(row))
                    for row in conn.execute(
                        sa.text(
                            f'SELECT * FROM "{table}"'
                            if engine.dialect.name == "postgresql"
                            else f"SELECT * FROM `{table}`"
                        )
                    )
                )
                digests[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    finally:
        engine.dispose()
    return digests


def object_digests(s3) -> dict[str, str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=ARTIFACTS_BUCKET)
    keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
    return {
        key: hashlib.sha256(
            s3.get_object(Bucket=ARTIFACTS_BUCKET, Key=key)["Body"].read()
        ).hexdigest()
        for key in keys
    }


def registry_state(tracking_uri: str) -> dict:
    """Every version of the model with its aliases and tags, and the runs behind them."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri)
    versions = client.search_model_versions(f"name='{MODEL_NAME}'")
    model = client.get_registered_model(MODEL_NAME)
    return {
        "aliases": dict(model.aliases),
        "versions": {
            v.version: {
                "run_id": v.run_id,
                "source": v.source,
                "status": v.status,
                "tags": dict(v.tags),
                "aliases": sorted(v.aliases),
            }
            for v in versions
        },
        "runs": {
            run.info.run_id: {"metrics": run.data.metrics, "params": run.data.params}
            for run in (client.get_run(v.run_id) for v in versions)
        },
    }


def stores_state(urls: dict[str, str], s3, tracking_uri: str) -> dict:
    """What a restore must give back: every table, object, model version, alias and tag."""
    return {
        **{store: table_digests(urls[store]) for store in ("data", "airflow", "mlflow")},
        "objects": object_digests(s3),
        "registry": registry_state(tracking_uri),
    }


def predict(api_url: str, records: list[dict]) -> list[float]:
    answer = httpx.post(f"{api_url}/predict/", json=records, timeout=60)
    assert answer.status_code == 200, answer.text
    return [item["probability"] for item in answer.json()["predictions"]]


def records_of(spec: FeatureSpec) -> list[dict]:
    base = spec.example_record()
    return [
        {**base, "sched_dep_hour": hour, "sched_arr_hour": min(hour + 2, 23)}
        for hour in range(6, 22, 3)
    ]


@pytest.fixture(scope="module")
def drill_platform(postgres_admin_url, mysql_admin_url, data_source_url, tmp_path_factory):
    """The three stores with a pipeline run and predictions in them, and their URLs."""
    urls = {
        "data": new_database(postgres_admin_url, "bk_data"),
        "airflow": new_database(postgres_admin_url, "bk_airflow"),
        "mlflow": new_database(mysql_admin_url, "bk_mlflow"),
    }
    home = tmp_path_factory.mktemp("drill")
    try:
        with s3_server() as s3_url:
            import boto3

            s3 = boto3.client(
                "s3",
                endpoint_url=s3_url,
                **{k.lower(): v for k, v in MOTO_KEYS.items() if k != "AWS_DEFAULT_REGION"},
                region_name="us-east-1",
            )
            for bucket in (ARTIFACTS_BUCKET, BACKUP_BUCKET):
                s3.create_bucket(Bucket=bucket)
            airflow_url = sa.make_url(urls["airflow"])
            migrate_env = {
                **os.environ,
                "AIRFLOW_HOME": str(home / "airflow"),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_url.render_as_string(
                    hide_password=False
                ),
                # Airflow 3 also opens an async engine; psycopg 3 serves both.
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": airflow_url.set(
                    drivername="postgresql+psycopg_async"
                ).render_as_string(hide_password=False),
            }
            subprocess.run(
                [str(BIN / "airflow"), "db", "migrate"],
                env=migrate_env,
                check=True,
                capture_output=True,
                timeout=300,
            )
            mlflow_env = {**MOTO_KEYS, "MLFLOW_S3_ENDPOINT_URL": s3_url}
            yield {"urls": urls, "s3_url": s3_url, "s3": s3, "mlflow_env": mlflow_env, "home": home}
    finally:
        for url in urls.values():
            drop_database(url)


def test_backup_drop_restore_finds_every_store_equal(plugin, drill_platform, data_source_url):
    from mlflow import MlflowClient

    platform = drill_platform
    urls, s3, s3_url, home = platform["urls"], platform["s3"], platform["s3_url"], platform["home"]
    artifacts = f"s3://{ARTIFACTS_BUCKET}/artifacts"
    api_env = {
        "INFERENCE_API_ADMIN_TOKEN": PLUGIN_ADMIN_TOKEN,
        "DATA_DB_URL": urls["data"],
        "PROYECTO4_HOME": str(home),
        "INFERENCE_API_WATCH_INTERVAL_S": "0",
        "INFERENCE_API_LOG_FLUSH_INTERVAL_S": "0.1",
    }
    # -- a pipeline run and predictions ---------------------------------------------------
    with mlflow_server(urls["mlflow"], artifacts, platform["mlflow_env"]) as tracking_uri:
        settings = small_budget(
            proyecto4_home=home,
            data_db_url=urls["data"],
            mlflow_tracking_uri=tracking_uri,
            data_source_url=data_source_url,
        )
        run_pipeline_steps(settings, *TRAINED_WINDOW)
        client = MlflowClient(tracking_uri)
        production = client.get_model_version_by_alias(MODEL_NAME, PRODUCTION_ALIAS)
        spec_path = client.download_artifacts(production.run_id, "feature_spec.json", str(home))
        records = records_of(FeatureSpec.load(Path(spec_path)))
        with uvicorn_app(
            "inference_api.app:create_app",
            {**api_env, "MLFLOW_TRACKING_URI": tracking_uri},
            health="/ready",
        ) as api:
            before_probabilities = predict(api, records)
            predict(api, records[:2])
            one = httpx.post(f"{api}/predict/", json=records[0], timeout=60)
            assert one.status_code == 200, one.text
            deadline = time.monotonic() + 30
            while table_digests(urls["data"]).get(INFERENCE_LOG_TABLE, (0,))[0] < len(records) + 3:
                assert time.monotonic() < deadline, "inference_log rows not written"
                time.sleep(0.2)
        before = stores_state(urls, s3, tracking_uri)

    for table in ("raw_data", "clean_data", INFERENCE_LOG_TABLE, PROMOTION_LEDGER_TABLE):
        assert before["data"][table][0] > 0, table
    names = {key.rsplit("/", 1)[-1] for key in before["objects"]}
    assert {"feature_spec.json", "MLmodel"} <= names and any(n.endswith(".png") for n in names)
    assert len(before["airflow"]) > 30  # Airflow's whole metadata schema

    # -- back up, then lose everything ----------------------------------------------------
    store_args = [
        "--data-db-url",
        urls["data"],
        "--airflow-db-url",
        urls["airflow"],
        "--mlflow-db-url",
        urls["mlflow"],
        "--artifacts-url",
        artifacts,
        "--s3-endpoint-url",
        s3_url,
    ]
    env = {**MOTO_KEYS, "INFERENCE_API_ADMIN_TOKEN": PLUGIN_ADMIN_TOKEN}
    began = time.monotonic()
    backup = plugin.run(
        "proyecto4", "backup", *store_args, "--to", f"s3://{BACKUP_BUCKET}/drill", env=env
    )
    backup_seconds = time.monotonic() - began
    assert backup.returncode == 0, backup.stderr
    backup_id = backup.stdout.split()[1]
    manifest = json.loads(
        s3.get_object(Bucket=BACKUP_BUCKET, Key=f"drill/{backup_id}/manifest.json")["Body"].read()
    )
    assert manifest["id"] == backup_id and set(manifest["parts"]) == {
        "data",
        "airflow",
        "mlflow",
        "artifacts",
    }
    assert manifest["parts"]["artifacts"]["objects"] == len(before["objects"])

    for url in urls.values():
        drop_database(url, recreate=True)
    for key in before["objects"]:
        s3.delete_object(Bucket=ARTIFACTS_BUCKET, Key=key)
    assert "raw_data" not in table_digests(urls["data"]) and not object_digests(s3)

    # -- restore into fresh servers: MLflow migrates its empty schema, the API has no model --
    with (
        mlflow_server(urls["mlflow"], artifacts, platform["mlflow_env"]) as tracking_uri,
        uvicorn_app(
            "inference_api.app:create_app", {**api_env, "MLFLOW_TRACKING_URI": tracking_uri}
        ) as api,
    ):
        assert httpx.get(f"{api}/ready", timeout=10).status_code == 503
        began = time.monotonic()
        restore = plugin.run(
            "proyecto4",
            "restore",
            "--from",
            f"s3://{BACKUP_BUCKET}/drill/{backup_id}",
            *store_args,
            "--mlflow-url",
            tracking_uri,
            "--api-url",
            api,
            env=env,
        )
        restore_seconds = time.monotonic() - began
        assert restore.returncode == 0, restore.stderr
        assert f"{MODEL_NAME}@{PRODUCTION_ALIAS}: v{production.version}" in restore.stdout
        assert f"serves v{production.version}" in restore.stdout

        after = stores_state(urls, s3, tracking_uri)
        for store in ("data", "airflow", "mlflow", "objects", "registry"):
            assert after[store] == before[store], store
        # MLflow serves the restored artifacts themselves.
        restored_spec = MlflowClient(tracking_uri).download_artifacts(
            production.run_id, "feature_spec.json", str(home / "after")
        )
        assert Path(restored_spec).read_bytes() == Path(spec_path).read_bytes()
        assert predict(api, records) == before_probabilities

    REPORT.parent.mkdir(exist_ok=True)
    sizes = {part: summary["bytes"] for part, summary in manifest["parts"].items()}
    rows = {
        table: before["data"][table][0]
        for table in ("raw_data", "clean_data", INFERENCE_LOG_TABLE, PROMOTION_LEDGER_TABLE)
    }
    REPORT.write_text(
        f"backup {backup_id}: {backup_seconds:.1f} s (helm proyecto4 backup, URL mode, to moto S3)\n"
        f"restore: {restore_seconds:.1f} s (checksums, 3 databases, {len(before['objects'])} objects, API reload)\n"
        f"bytes per part: {json.dumps(sizes)}\nrows: {json.dumps(rows)}\n"
        f"model versions: {len(before['registry']['versions'])}\n\n{backup.stdout}\n{restore.stdout}"
    )
