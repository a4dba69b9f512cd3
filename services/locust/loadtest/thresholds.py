"""Pass/fail of a load test: the limits a run must respect, and its one-line summary.

Free of locust imports (locust patches the process with gevent when imported), so the
runner, the CLI and the tests can use it too.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Totals:
    """The aggregated figures of a run, as locust's "Aggregated" row holds them."""

    requests: int
    failures: int
    requests_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def failure_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    def summary(self) -> str:
        return (
            f"requests={self.requests} failures={self.failures} "
            f"({self.failure_ratio:.2%}) req/s={self.requests_per_s:.1f} "
            f"p50={self.p50_ms:.0f}ms p95={self.p95_ms:.0f}ms p99={self.p99_ms:.0f}ms"
        )


@dataclass(frozen=True)
class Limits:
    """A limit of None is not checked."""

    max_failure_ratio: float | None = 0.01
    max_p95_ms: float | None = None

    def broken(self, totals: Totals) -> list[str]:
        """One sentence per broken limit; empty when the run passes."""
        if totals.requests == 0:
            return ["no request was made"]
        broken = []
        if self.max_failure_ratio is not None and totals.failure_ratio > self.max_failure_ratio:
            broken.append(f"failure ratio {totals.failure_ratio:.4f} > {self.max_failure_ratio}")
        if self.max_p95_ms is not None and totals.p95_ms > self.max_p95_ms:
            broken.append(f"p95 {totals.p95_ms:.0f} ms > {self.max_p95_ms} ms")
        return broken
