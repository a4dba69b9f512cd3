"""inference_log: every served prediction reaches the data DB, also across a DB outage."""

from __future__ import annotations

import contextlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import sqlalchemy as sa
from api_helpers import api_env, database, log_drained, log_rows, metric, running_api, wait_until


def _serve(url: str, body) -> int:
    """Rows the request should log: its records when answered 200, else none."""
    response = httpx.post(f"{url}/predict/", json=body, timeout=30)
    if response.status_code != 200:
        return 0
    return len(body) if isinstance(body, list) else 1


def test_rows_equal_successful_predictions_after_a_burst(api, log_db, record):
    log_drained(api)
    written_before = metric(api, "inference_log_rows_written_total")
    # Other tests' APIs may have logged to the same database before this one started.
    rows_before = log_rows(log_db)
    bodies = [record, [record] * 3, {"bad": 1}, [record, {"bad": 1}]] * 15

    with ThreadPoolExecutor(8) as pool:
        served = sum(pool.map(lambda body: _serve(api, body), bodies))

    assert served == 15 * 4
    wait_until(
        lambda: metric(api, "inference_log_rows_written_total") == written_before + served,
        60,
        f"{served} rows written",
    )
    assert log_rows(log_db) - rows_before == served


def test_a_logged_row_holds_the_request_and_the_answer(api, log_db, record, trained_model):
    answer = httpx.post(f"{api}/predict/", json=record).json()
    log_drained(api)

    engine = sa.create_engine(log_db)
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM inference_log ORDER BY id DESC LIMIT 1")).one()
    engine.dispose()

    assert json.loads(row.features) == record
    assert row.prediction == answer["prediction"]
    assert row.probability == answer["probability"]
    assert (row.model_name, row.model_version) == ("flight-delay", trained_model.version)
    assert row.latency_ms > 0


@contextlib.contextmanager
def unavailable(admin_url: str, db_url: str):
    """The database refuses connections (and loses the open ones) until the block ends."""
    name = sa.make_url(db_url).database
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
        conn.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
    try:
        yield
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        admin.dispose()


class SteadyLoad:
    """One client posting a record in a loop, counting answers by status."""

    def __init__(self, url: str, record: dict):
        self.url, self.record = url, record
        self.statuses: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                status = client.post(f"{self.url}/predict/", json=self.record).status_code
                self.statuses[status] = self.statuses.get(status, 0) + 1

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(60)


def test_db_outage_buffers_rows_and_writes_them_all_afterwards(
    trained_model, postgres_admin_url, record
):
    with database(postgres_admin_url) as db_url, running_api(api_env(trained_model, db_url)) as url:
        with SteadyLoad(url, record) as load:
            wait_until(
                lambda: metric(url, "inference_log_rows_written_total") >= 10,
                60,
                "rows written before the outage",
            )
            with unavailable(postgres_admin_url, db_url):
                wait_until(
                    lambda: metric(url, "inference_log_rows_buffered") >= 30,
                    60,
                    "rows piling up in the buffer",
                )
        served = load.statuses.get(200, 0)

        assert set(load.statuses) == {200}
        wait_until(
            lambda: metric(url, "inference_log_rows_written_total") == served,
            60,
            f"all {served} rows written after the outage",
        )
        assert metric(url, "inference_log_rows_buffered") == 0.0
        assert metric(url, "inference_log_rows_dropped_total") == 0.0
        assert log_rows(db_url) == served


def test_a_full_buffer_drops_rows_counts_them_and_keeps_serving(
    trained_model, postgres_admin_url, record
):
    with (
        database(postgres_admin_url) as db_url,
        running_api(api_env(trained_model, db_url, log_buffer_rows=5, max_records=5)) as url,
    ):
        with unavailable(postgres_admin_url, db_url):
            statuses = [httpx.post(f"{url}/predict/", json=record).status_code for _ in range(8)]

            assert statuses == [200] * 8
            assert metric(url, "inference_log_rows_buffered") == 5.0
            assert metric(url, "inference_log_rows_dropped_total") == 3.0
        wait_until(
            lambda: metric(url, "inference_log_rows_written_total") == 5.0,
            60,
            "the 5 buffered rows written",
        )
        assert log_rows(db_url) == 5


@contextlib.contextmanager
def table_locked(db_url: str):
    """inference_log stays locked by another session: the DB is up, writes just wait."""
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        conn.execute(sa.text("LOCK TABLE inference_log IN ACCESS EXCLUSIVE MODE"))
        try:
            yield
        finally:
            conn.rollback()
    engine.dispose()


@contextlib.contextmanager
def api_with_one_logged_row(trained_model, admin_url: str, record: dict, **settings):
    """An API on a database of its own whose inference_log exists and holds one row."""
    with (
        database(admin_url) as db_url,
        running_api(api_env(trained_model, db_url, **settings)) as url,
    ):
        assert _serve(url, record) == 1
        wait_until(
            lambda: metric(url, "inference_log_rows_written_total") == 1,
            30,
            "the table created and the first row written",
        )
        yield url, db_url


def test_a_slow_db_makes_requests_wait_for_room_and_loses_nothing(
    trained_model, postgres_admin_url, record
):
    with api_with_one_logged_row(
        trained_model,
        postgres_admin_url,
        record,
        log_buffer_rows=20,
        max_records=20,
        log_max_wait_s=30,
    ) as (url, db_url):
        bodies = [[record] * 5] * 40
        with ThreadPoolExecutor(4) as pool:
            with table_locked(db_url):
                answers = pool.map(lambda body: _serve(url, body), bodies)
                wait_until(
                    lambda: metric(url, "inference_log_rows_buffered") == 20, 30, "a full buffer"
                )
                # Requests now wait for room: none is answered while the table is locked.
                answered = metric(url, "predict_requests_total", outcome="success")
                threading.Event().wait(1.0)
                assert metric(url, "predict_requests_total", outcome="success") == answered
            served = 1 + sum(answers)

        assert served == 1 + 200
        wait_until(
            lambda: metric(url, "inference_log_rows_written_total") == served,
            60,
            f"all {served} rows written",
        )
        assert metric(url, "inference_log_rows_dropped_total") == 0.0
        assert metric(url, "inference_log_wait_seconds_total") > 1.0
        assert log_rows(db_url) == served


def test_requests_wait_at_most_the_limit_then_drop_and_count(
    trained_model, postgres_admin_url, record
):
    with api_with_one_logged_row(
        trained_model,
        postgres_admin_url,
        record,
        log_buffer_rows=5,
        max_records=5,
        log_max_wait_s=0.3,
    ) as (url, db_url):
        with table_locked(db_url):
            statuses = [httpx.post(f"{url}/predict/", json=record).status_code for _ in range(8)]

            assert statuses == [200] * 8
            assert metric(url, "inference_log_rows_dropped_total") == 3.0
            assert metric(url, "inference_log_wait_seconds_total") >= 3 * 0.3
        wait_until(
            lambda: metric(url, "inference_log_rows_written_total") == 6.0,
            60,
            "the first row and the 5 buffered rows written",
        )
        assert log_rows(db_url) == 6
