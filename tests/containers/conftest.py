"""The platform as containers: our images, built here, run with the pod specs the chart
renders (kube_play.py says how). The machine's PostgreSQL and MariaDB stand in for the
Bitnami servers and moto's S3 server for MinIO, whose images no registry here can give.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from chart.chart_render import RELEASE, find, render_chart
from kube_play import Cluster
from servers import BIN, MYSQL_URL, POSTGRES_URL, REPO, db_answers, running
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

IN_CI = os.environ.get("CI") == "true"
VALUES = Path(__file__).with_name("values-containers.yaml")
# The packaged dependency charts beside the repository (README, "Tests"); the Airflow chart's
# pod template and airflow.cfg are needed, so stubs do not do here.
DEPS_DIR = Path(os.environ.get("PROYECTO4_DEPS_DIR") or REPO.parent / "shared" / "charts")


def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(reason + " - CI must provide it")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def podman_ready():
    if not shutil.which("podman"):
        _unavailable("podman is not installed (bash ci/install-podman.sh)")
    if not DEPS_DIR.is_dir():
        _unavailable(f"no packaged dependency charts in {DEPS_DIR} (set PROYECTO4_DEPS_DIR)")


@pytest.fixture(scope="session")
def images(podman_ready):
    """Every image of services/images.yaml, built as `make images` builds them (layers cached)."""
    result = subprocess.run(
        [sys.executable, str(REPO / "ci" / "images.py"), "--quiet"],
        check=False,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


@pytest.fixture(scope="session")
def objects(podman_ready) -> list[dict]:
    return render_chart(value_files=[str(VALUES)], deps_dir=DEPS_DIR)


def secret_value(objects: list[dict], secret: str, key: str) -> str:
    return base64.b64decode(find(objects, "Secret", secret)["data"][key]).decode()


@pytest.fixture(scope="session")
def databases(objects):
    """The databases and users the rendered Secrets name, made fresh on the machine's servers."""
    if not (db_answers(POSTGRES_URL) and db_answers(MYSQL_URL)):
        _unavailable("PostgreSQL at 127.0.0.1:5432 and MariaDB at 127.0.0.1:3306 are needed")
    data_url = make_url(secret_value(objects, "proyecto4-data-db", "DATA_DB_URL"))
    airflow_url = make_url(secret_value(objects, "proyecto4-airflow-metadata", "connection"))
    mlflow_url = make_url(secret_value(objects, "proyecto4-mlflow-db", "MLFLOW_BACKEND_STORE_URI"))
    # MLflow's users and permissions: a database of their own for the same user, as the
    # in-cluster MySQL's init script makes it.
    auth_url = make_url(secret_value(objects, "proyecto4-mlflow-db", "MLFLOW_AUTH_DATABASE_URI"))
    pg = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with pg.connect() as conn:
        for url in (data_url, airflow_url):
            conn.execute(text(f"DROP DATABASE IF EXISTS {url.database} WITH (FORCE)"))
        conn.execute(text(f"DROP ROLE IF EXISTS {data_url.username}"))
        # DDL takes no bind parameters; the chart's generated passwords are alphanumeric.
        assert data_url.password.isalnum()
        conn.execute(text(f"CREATE ROLE {data_url.username} LOGIN PASSWORD '{data_url.password}'"))
        for url in (data_url, airflow_url):
            conn.execute(text(f"CREATE DATABASE {url.database} OWNER {data_url.username}"))
    my = create_engine(MYSQL_URL, isolation_level="AUTOCOMMIT")
    with my.connect() as conn:
        for database in (mlflow_url.database, auth_url.database):
            conn.execute(text(f"DROP DATABASE IF EXISTS {database}"))
        conn.execute(text(f"DROP USER IF EXISTS '{mlflow_url.username}'@'%'"))
        conn.execute(
            text(f"CREATE USER '{mlflow_url.username}'@'%' IDENTIFIED BY :pw"),
            {"pw": mlflow_url.password},
        )
        for database in (mlflow_url.database, auth_url.database):
            conn.execute(text(f"CREATE DATABASE {database}"))
            conn.execute(text(f"GRANT ALL ON {database}.* TO '{mlflow_url.username}'@'%'"))
    yield {"data": data_url.set(drivername="postgresql+psycopg", host="127.0.0.1")}
    pg.dispose()
    my.dispose()


# Module scope: the pods and servers go when the module's tests are done, not at session end.
@pytest.fixture(scope="module")
def object_store(objects):
    """moto's S3 server where the pods find MinIO (its Service's port on the host), with the
    bucket MLflow's artifacts go to."""
    import boto3

    port = find(objects, "Service", "proyecto4-minio")["spec"]["ports"][0]["port"]
    destination = find(objects, "ConfigMap", "proyecto4-mlflow")["data"][
        "MLFLOW_ARTIFACTS_DESTINATION"
    ]
    with running(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        f"http://127.0.0.1:{port}/moto-api/",
    ):
        s3 = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id=secret_value(objects, "proyecto4-object-store", "AWS_ACCESS_KEY_ID"),
            aws_secret_access_key=secret_value(
                objects, "proyecto4-object-store", "AWS_SECRET_ACCESS_KEY"
            ),
        )
        s3.create_bucket(Bucket=destination.removeprefix("s3://").split("/")[0])
        yield s3


def _taken(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def cluster(objects, images, databases, object_store):
    pods = Cluster(objects)
    ours = [
        o
        for o in objects
        if o["kind"] == "Service"
        and o["metadata"]["name"].startswith(
            tuple(
                f"{RELEASE}-{name}"
                for name in ("data-source", "mlflow", "inference-api", "streamlit")
            )
        )
    ]
    taken = sorted({p["port"] for o in ours for p in o["spec"]["ports"] if _taken(p["port"])})
    if taken:
        pytest.fail(
            f"ports {taken} on 127.0.0.1 are taken: the pods publish their Services' ports there; "
            "stop what listens (e.g. a running `make demo`)"
        )
    yield pods
    pods.down()
