"""GET /metadata, GET /health and the settings."""

from __future__ import annotations

import pytest
from data_source.settings import DataSourceSettings
from data_source_fields import FLIGHT_FIELDS, WEATHER_FIELDS
from pydantic import ValidationError


def test_metadata_gives_range_groups_and_columns(three_groups):
    response = three_groups.get("/metadata")
    assert response.status_code == 200
    assert response.json() == {
        "first_date": "2013-01-01",
        "last_date": "2013-12-31",
        "groups": 3,
        "columns": FLIGHT_FIELDS + WEATHER_FIELDS,
        "row_count": 336_776,
    }


def test_health(one_group):
    response = one_group.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATA_SOURCE_GROUPS", "4")
    monkeypatch.setenv("DATA_SOURCE_ERROR_RATE", "0.25")
    monkeypatch.setenv("DATA_SOURCE_LATENCY_MS", "50")
    monkeypatch.setenv("DATA_SOURCE_SEED", "7")
    monkeypatch.setenv("PORT", "8123")
    settings = DataSourceSettings()
    assert (settings.groups, settings.error_rate, settings.latency_ms) == (4, 0.25, 50)
    assert (settings.seed, settings.port) == (7, 8123)


def test_defaults_are_one_group_and_no_faults(monkeypatch):
    for name in ("DATA_SOURCE_GROUPS", "DATA_SOURCE_ERROR_RATE", "DATA_SOURCE_LATENCY_MS", "PORT"):
        monkeypatch.delenv(name, raising=False)
    settings = DataSourceSettings()
    assert (settings.groups, settings.error_rate, settings.latency_ms, settings.port) == (
        1,
        0.0,
        0,
        8000,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATA_SOURCE_GROUPS", "0"),
        ("DATA_SOURCE_ERROR_RATE", "1.5"),
        ("DATA_SOURCE_LATENCY_MS", "-1"),
    ],
)
def test_out_of_range_settings_are_refused(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.removeprefix("DATA_SOURCE_").lower()):
        DataSourceSettings()
