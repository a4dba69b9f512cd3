"""GET /data: the rows' fields and types, the weather join and missing values."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from data_source.flights import data_dir
from data_source_fields import FLIGHT_FIELDS, STRING_FIELDS, WEATHER_FIELDS

FIRST_DAY = "2013-01-01"


def day_rows(client, date: str = FIRST_DAY, group: int = 1) -> list[dict]:
    response = client.get("/data", params={"group": group, "date": date})
    assert response.status_code == 200
    return response.json()["rows"]


def find(rows: list[dict], carrier: str, flight: int, origin: str) -> dict:
    (row,) = [
        r for r in rows if (r["carrier"], r["flight"], r["origin"]) == (carrier, flight, origin)
    ]
    return row


def test_answer_names_group_date_and_count(one_group):
    response = one_group.get("/data", params={"group": "1", "date": FIRST_DAY})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["group", "date", "count", "rows"]
    assert (body["group"], body["date"]) == (1, FIRST_DAY)
    assert body["count"] == len(body["rows"]) == 842


def test_every_row_has_the_contract_fields_in_order(one_group):
    rows = day_rows(one_group, "2013-07-04")
    assert rows
    assert {tuple(row) for row in rows} == {tuple(FLIGHT_FIELDS + WEATHER_FIELDS)}


def test_values_keep_their_types(one_group):
    # Integers stay integers (no 517.0), weather stays float, text stays text.
    for row in day_rows(one_group, "2013-03-15"):
        for field, value in row.items():
            if value is None:
                continue
            if field in STRING_FIELDS:
                assert isinstance(value, str), (field, value)
            elif field in WEATHER_FIELDS:
                assert isinstance(value, float), (field, value)
            else:
                assert type(value) is int, (field, value)


def test_a_known_flight_as_the_provider_sends_it(one_group):
    row = find(day_rows(one_group), "UA", 1545, "EWR")
    assert row == {
        "year": 2013, "month": 1, "day": 1, "dep_time": 517, "sched_dep_time": 515,
        "dep_delay": 2, "arr_time": 830, "sched_arr_time": 819, "arr_delay": 11,
        "carrier": "UA", "flight": 1545, "tailnum": "N14228", "origin": "EWR", "dest": "IAH",
        "air_time": 227, "distance": 1400, "hour": 5, "minute": 15,
        "time_hour": "2013-01-01T10:00:00Z",
        # EWR's observation of 2013-01-01 at 05:00 local time.
        "temp": 39.02, "dewp": 28.04, "humid": 64.43, "wind_dir": 260.0,
        "wind_speed": 12.658579999999999, "wind_gust": None, "precip": 0.0,
        "pressure": 1011.9, "visib": 10.0,
    }  # fmt: skip


def weather_table() -> dict[tuple, dict]:
    """weather.csv read with the csv module: an oracle independent of the service's pandas."""
    with Path(data_dir(), "weather.csv").open(newline="") as handle:
        table = {}
        for record in csv.DictReader(handle):
            key = (record["origin"], *(int(record[k]) for k in ("year", "month", "day", "hour")))
            # The first observation wins where daylight saving time repeats an hour.
            table.setdefault(
                key, {f: None if record[f] == "NA" else float(record[f]) for f in WEATHER_FIELDS}
            )
    return table


@pytest.mark.parametrize("date", [FIRST_DAY, "2013-11-03"])
def test_weather_is_the_origins_at_the_scheduled_hour(one_group, date):
    weather = weather_table()
    no_observation = dict.fromkeys(WEATHER_FIELDS)
    for row in day_rows(one_group, date):
        key = (row["origin"], row["year"], row["month"], row["day"], row["hour"])
        assert {f: row[f] for f in WEATHER_FIELDS} == weather.get(key, no_observation), key


def test_a_cancelled_flight_has_null_times_and_delays(one_group):
    row = find(day_rows(one_group), "EV", 4308, "EWR")
    assert [row[f] for f in ("dep_time", "dep_delay", "arr_time", "arr_delay", "air_time")] == [
        None
    ] * 5
    assert row["tailnum"] == "N18120"


def test_a_flight_without_an_observation_has_null_weather(one_group):
    # The weather data set has no 12:00 observation at JFK on 2013-01-01.
    row = find(day_rows(one_group), "DL", 863, "JFK")
    assert row["dep_time"] == 1153
    assert [row[f] for f in WEATHER_FIELDS] == [None] * len(WEATHER_FIELDS)


def test_a_missing_tail_number_is_null(one_group):
    row = find(day_rows(one_group, "2013-01-02"), "AA", 133, "JFK")
    assert row["tailnum"] is None


def test_missing_values_are_json_null_never_nan(one_group):
    response = one_group.get("/data", params={"group": 1, "date": FIRST_DAY})
    assert response.status_code == 200
    assert b"NaN" not in response.content
    assert b":null" in response.content
