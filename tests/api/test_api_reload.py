"""Model swaps under load: no request fails, and each client sees the versions switch once."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import httpx
import pytest
from api_helpers import ADMIN, api_env, running_api, versions_of, wait_until
from mlflow import MlflowClient

CLIENTS = 4


@pytest.fixture
def two_versions(trained_model) -> Iterator[str]:
    """Versions 1 and 2 of the pipeline's model under a name of their own, alias on 1."""
    with versions_of(trained_model, 2, alias_on="1") as name:
        yield name


class Clients:
    """CLIENTS threads posting records; each keeps the versions it was answered by."""

    def __init__(self, url: str, record: dict):
        self.url, self.record = url, record
        self.versions: list[list[str]] = [[] for _ in range(CLIENTS)]
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(seen,), daemon=True) for seen in self.versions
        ]

    def _run(self, seen: list[str]) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                response = client.post(f"{self.url}/predict/", json=self.record)
                if response.status_code != 200:
                    self.failures.append(f"{response.status_code} {response.text}")
                    continue
                seen.append(response.json()["model_version"])

    def all_on(self, version: str) -> bool:
        return all(seen and seen[-1] == version for seen in self.versions)

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for thread in self._threads:
            thread.join(60)


def test_alias_move_and_explicit_load_swap_without_a_failed_request(
    trained_model, two_versions, log_db, record
):
    env = api_env(trained_model, log_db, model_name=two_versions, watch_interval_s=0.5)
    with running_api(env) as url, Clients(url, record) as clients:
        wait_until(lambda: clients.all_on("1"), 60, "every client served by version 1")

        MlflowClient(trained_model.tracking_uri).set_registered_model_alias(
            two_versions, "production", "2"
        )
        wait_until(lambda: clients.all_on("2"), 60, "the watcher to swap in version 2")

        response = httpx.post(
            f"{url}/load_model/", json={"version": "1"}, headers=ADMIN, timeout=60
        )

        assert response.status_code == 200
        assert response.json()["model_version"] == "1"
        wait_until(lambda: clients.all_on("1"), 60, "every client back on version 1")
        pinned = httpx.get(f"{url}/model").json()

    assert clients.failures == []
    for seen in clients.versions:
        assert [v for v, _ in itertools.groupby(seen)] == ["1", "2", "1"]
    # An explicit version pins the API: the watcher no longer follows the alias (on 2).
    assert pinned["model_version"] == "1"
    assert pinned["source"] == "version 1"
