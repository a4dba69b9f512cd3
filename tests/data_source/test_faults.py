"""Fault injection on real uvicorn processes: errors (503) and added latency."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from data_source.faults import FaultInjector
from fastapi import HTTPException

DAY = {"group": 1, "date": "2013-01-01"}


def test_error_rate_one_fails_every_data_request(failing_server_url):
    for _ in range(3):
        response = httpx.get(f"{failing_server_url}/data", params=DAY, timeout=30)
        assert response.status_code == 503
        assert response.json() == {
            "detail": "injected fault: this data source fails 100% of /data requests "
            "(DATA_SOURCE_ERROR_RATE=1.0); retry later"
        }


def test_faults_leave_health_and_metadata_alone(failing_server_url):
    assert httpx.get(f"{failing_server_url}/health", timeout=30).status_code == 200
    response = httpx.get(f"{failing_server_url}/metadata", timeout=30)
    assert response.status_code == 200
    assert response.json()["groups"] == 1


def test_a_bad_request_is_refused_before_any_fault(failing_server_url):
    response = httpx.get(
        f"{failing_server_url}/data", params={"group": 1, "date": "2014-01-01"}, timeout=30
    )
    assert response.status_code == 404


def test_latency_is_added_to_data_requests(slow_server_url):
    # A lower bound only: a loaded machine can make the answer later, never earlier.
    started = time.monotonic()
    response = httpx.get(f"{slow_server_url}/data", params=DAY, timeout=60)
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_a_client_timeout_shorter_than_the_latency_times_out(slow_server_url):
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{slow_server_url}/data", params=DAY, timeout=0.1)


async def outcomes(injector: FaultInjector, calls: int) -> list[int]:
    codes = []
    for _ in range(calls):
        try:
            await injector.apply()
            codes.append(200)
        except HTTPException as error:
            codes.append(error.status_code)
    return codes


def test_a_partial_error_rate_fails_some_calls_reproducibly():
    first = asyncio.run(outcomes(FaultInjector(error_rate=0.5, latency_ms=0, seed=11), 40))
    again = asyncio.run(outcomes(FaultInjector(error_rate=0.5, latency_ms=0, seed=11), 40))
    assert set(first) == {200, 503}
    assert first == again


def test_error_rate_zero_never_fails():
    assert set(asyncio.run(outcomes(FaultInjector(error_rate=0.0, latency_ms=0), 200))) == {200}
