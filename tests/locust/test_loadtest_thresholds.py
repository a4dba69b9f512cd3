"""The limits that decide a load test's exit code."""

import pytest
from loadtest.thresholds import Limits, Totals


def totals(requests=1000, failures=0, p95_ms=80.0) -> Totals:
    return Totals(
        requests=requests,
        failures=failures,
        requests_per_s=50.0,
        p50_ms=20.0,
        p95_ms=p95_ms,
        p99_ms=150.0,
    )


@pytest.mark.parametrize(
    ("limits", "run", "broken"),
    [
        (Limits(), totals(), []),
        (Limits(max_failure_ratio=0.01), totals(failures=10), []),
        (Limits(max_failure_ratio=0.01), totals(failures=11), ["failure ratio 0.0110 > 0.01"]),
        (Limits(max_failure_ratio=None), totals(failures=999), []),
        (Limits(max_p95_ms=80), totals(p95_ms=80), []),
        (Limits(max_p95_ms=50), totals(p95_ms=80), ["p95 80 ms > 50 ms"]),
        (
            Limits(max_failure_ratio=0.0, max_p95_ms=50),
            totals(failures=1, p95_ms=80),
            ["failure ratio 0.0010 > 0.0", "p95 80 ms > 50 ms"],
        ),
        (Limits(max_failure_ratio=None), totals(requests=0), ["no request was made"]),
    ],
)
def test_broken_limits(limits, run, broken):
    assert limits.broken(run) == broken


def test_summary_names_the_figures():
    summary = totals(failures=5).summary()

    assert summary == ("requests=1000 failures=5 (0.50%) req/s=50.0 p50=20ms p95=80ms p99=150ms")
