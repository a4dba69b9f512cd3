"""Injected latency and failures, so that clients' timeouts and retries meet a real server."""

from __future__ import annotations

import asyncio
import random

from fastapi import HTTPException, status


class FaultInjector:
    def __init__(self, error_rate: float, latency_ms: int, seed: int | None = None) -> None:
        self.error_rate = error_rate
        self.latency_ms = latency_ms
        self._random = random.Random(seed)

    async def apply(self) -> None:
        """Waits the configured latency, then fails with 503 for a share of the calls."""
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000)
        if self._random.random() < self.error_rate:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                f"injected fault: this data source fails {self.error_rate:.0%} of /data "
                f"requests (DATA_SOURCE_ERROR_RATE={self.error_rate}); retry later",
            )
