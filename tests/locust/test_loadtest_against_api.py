"""Bounded headless runs against a real API that serves the trained model and logs to
PostgreSQL: every request answered as expected, every served prediction logged."""

import re

import httpx
import pytest
from loadtest import run
from loadtest.runner import read_totals

BATCH = 20
# Bounds the load test itself; the shared trained_model fixture trains for minutes.
pytestmark = pytest.mark.timeout(300, func_only=True)


def predictions_served(by_name) -> int:
    """Records the API predicted: one per single request, BATCH per list request."""
    one, many = by_name["predict one"], by_name["predict list"]
    return (one.requests - one.failures) + (many.requests - many.failures) * BATCH


def predictions_counted_by_api(url: str) -> int:
    """Records the API itself says it predicted (predictions_total over both classes)."""
    text = httpx.get(f"{url}/metrics").text
    return int(
        sum(float(v) for v in re.findall(r"^predictions_total\{[^}]*\} (\S+)$", text, re.MULTILINE))
    )


@pytest.mark.parametrize("workers", [0, 2], ids=["local", "master-and-2-workers"])
def test_bounded_run_has_no_failures_and_logs_every_prediction(served_api, tmp_path, workers):
    code = run(
        served_api.url,
        users=4,
        spawn_rate=4,
        run_time="15s",
        workers=workers,
        batch_size=BATCH,
        csv_prefix=tmp_path / "run",
        html=tmp_path / "run.html",
    )

    assert code == 0
    by_name = read_totals(tmp_path / "run")
    assert by_name["Aggregated"].failures == 0
    assert by_name["predict one"].requests > 0
    assert by_name["predict list"].requests > 0
    assert by_name["predict invalid"].requests > 0
    # Every prediction the API served is logged. Locust's own count can fall short of the
    # API's by a request its client retried after a dropped connection (the server had
    # answered the first attempt), so it bounds the API's count from below.
    served = predictions_counted_by_api(served_api.url)
    assert served_api.logged_rows() == served
    assert predictions_served(by_name) <= served


def test_a_broken_p95_limit_fails_the_run(served_api, tmp_path, capfd):
    # No HTTP round trip with a prediction takes less than a microsecond.
    code = run(
        served_api.url,
        users=2,
        spawn_rate=2,
        run_time="4s",
        max_p95_ms=0.001,
        csv_prefix=tmp_path / "run",
    )

    assert code == 1
    assert read_totals(tmp_path / "run")["Aggregated"].failures == 0
    assert "load test threshold broken: p95" in capfd.readouterr().out
