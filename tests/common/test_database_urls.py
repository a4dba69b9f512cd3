"""DATA_DB_URL as people write it: each accepted spelling works alike in the pipeline, the
API, the UI and the CLI, against the real PostgreSQL and a SQLite file; anything else is
refused with a message that names the accepted forms."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import pytest
from proyecto4_common.database import UnsupportedDatabaseUrl, create_database_engine
from proyecto4_common.tables import metadata, promotion_ledger
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from trained import small_budget

POSTGRES_FORMS = ("postgresql", "postgres", "postgresql+psycopg")
RECORD = {"carrier": "UA", "distance": 1400.0}


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory) -> str:
    """An embedded MLflow store for the CLI's summary (no model in it)."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture(params=[*POSTGRES_FORMS, "sqlite"])
def db_url(request, postgres_db, tmp_path) -> str:
    """The same kind of empty database, spelt one way."""
    if request.param == "sqlite":
        # A folder that does not exist yet: every component creates it alike.
        return f"sqlite:///{tmp_path / 'new-folder' / 'data.db'}"
    url = make_url(postgres_db)
    return f"{request.param}://{url.username}@{url.host}:{url.port}/{url.database}"


def write_inference_log(url: str, rows: int) -> int:
    """Rows through the API's own inference_log writer; returns how many it wrote."""
    from inference_api.inference_log import InferenceLogWriter

    written = []
    writer = InferenceLogWriter(
        url,
        capacity=100,
        batch_rows=10,
        flush_interval_s=0.05,
        retry_interval_s=0.1,
        max_wait_s=1,
        on_written=written.append,
        on_dropped=lambda n: None,
        on_waited=lambda s: None,
    )
    writer.start()
    asyncio.run(writer.submit([RECORD] * rows, [1] * rows, [0.75] * rows, "flight-delay", "3", 1.5))
    writer.stop(drain_timeout_s=10)
    return sum(written)


def test_every_spelling_works_in_the_pipeline_the_api_the_ui_and_the_cli(
    db_url, tracking_uri, tmp_path
):
    from pipeline.db import make_engine
    from pipeline.extract import create_raw_tables
    from proyecto4.report import pipeline_summary
    from streamlit_app import data_db

    settings = small_budget(
        proyecto4_home=tmp_path / "home", data_db_url=db_url, mlflow_tracking_uri=tracking_uri
    )
    create_raw_tables(settings)
    engine = make_engine(db_url)
    metadata.create_all(engine, tables=[promotion_ledger])
    with engine.begin() as conn:
        conn.execute(
            promotion_ledger.insert().values(
                decided_at=datetime.now(UTC),
                model_name="flight-delay",
                candidate_version="3",
                previous_version=None,
                metric="test_auroc",
                candidate_value=0.7,
                previous_value=None,
                promoted=True,
                reason="no production model yet",
            )
        )
    engine.dispose()

    written = write_inference_log(db_url, 3)
    shown = data_db.recent_predictions(db_url, limit=10, timeout_s=5)
    ledger = data_db.promotion_decisions(db_url, timeout_s=5)
    summary = pipeline_summary(settings)

    assert written == 3
    assert shown["probability"].tolist() == [0.75] * 3
    assert ledger["candidate_version"].tolist() == ["3"]
    assert (summary.raw_rows, summary.last_decision) == (0, "v3 promoted: no production model yet")
    assert "raw_data" in inspect(create_database_engine(db_url)).get_table_names()


@pytest.mark.parametrize(
    "url",
    ["mysql://root@127.0.0.1/data", "postgresql+psycopg2://postgres@127.0.0.1/x", "data.db"],
)
def test_an_unsupported_url_is_refused_alike_with_the_accepted_forms(url, tmp_path):
    from inference_api.inference_log import InferenceLogWriter
    from pipeline.db import make_engine
    from proyecto4.report import pipeline_summary
    from streamlit_app import data_db

    accepted = re.escape("postgresql://, postgres://, postgresql+psycopg:// or sqlite:///")
    with pytest.raises(UnsupportedDatabaseUrl, match=accepted):
        make_engine(url)
    with pytest.raises(UnsupportedDatabaseUrl, match=accepted):
        InferenceLogWriter(
            url,
            capacity=1,
            batch_rows=1,
            flush_interval_s=1,
            retry_interval_s=1,
            max_wait_s=0,
            on_written=None,
            on_dropped=None,
            on_waited=None,
        )
    with pytest.raises(data_db.DataDbUnavailable, match=accepted):
        data_db.recent_predictions(url, limit=1, timeout_s=1)
    with pytest.raises(UnsupportedDatabaseUrl, match=accepted):
        pipeline_summary(small_budget(proyecto4_home=tmp_path, data_db_url=url))
