"""Groups: disjoint, complete and stable shards of each day's rows."""

from __future__ import annotations

import datetime as dt
import itertools

import httpx
import pytest
from data_source.catalog import day_catalog

DAYS = ["2013-01-01", "2013-06-15", "2013-12-31"]


def rows_of(client, group: int, date: str) -> list[dict]:
    response = client.get("/data", params={"group": group, "date": date})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(body["rows"])
    return body["rows"]


def flight_key(row: dict) -> tuple:
    return tuple(
        row[f] for f in ("year", "month", "day", "carrier", "flight", "origin", "sched_dep_time")
    )


@pytest.mark.parametrize("date", DAYS)
def test_groups_are_disjoint_and_together_make_the_whole_day(one_group, three_groups, date):
    whole_day = rows_of(one_group, 1, date)
    shards = [rows_of(three_groups, group, date) for group in (1, 2, 3)]
    keys = [{flight_key(row) for row in shard} for shard in shards]
    assert all(keys), "every group gets some of the day's ~900 flights"
    assert not (keys[0] & keys[1] or keys[0] & keys[2] or keys[1] & keys[2])
    union = list(itertools.chain.from_iterable(shards))
    assert sorted(map(flight_key, union)) == sorted(map(flight_key, whole_day))
    # The shards carry the very same rows, not only the same flights.
    assert sorted(union, key=flight_key) == sorted(whole_day, key=flight_key)


def test_a_flights_group_is_pinned(three_groups):
    # crc32 of year-month-day-carrier-flight-origin-sched_dep_time, mod 3, plus 1:
    # a change of the shard function would move ingested rows between groups.
    first = {
        (r["carrier"], r["flight"], r["origin"]) for r in rows_of(three_groups, 1, "2013-01-01")
    }
    third = {
        (r["carrier"], r["flight"], r["origin"]) for r in rows_of(three_groups, 3, "2013-01-01")
    }
    assert ("UA", 1714, "LGA") in first
    assert ("AA", 1141, "JFK") in first
    assert ("UA", 1545, "EWR") in third
    assert ("B6", 725, "JFK") in third


def test_another_process_shards_the_same_way(three_groups, slow_server_url):
    # Python salts str hashes per process; the shards must not depend on the process.
    response = httpx.get(
        f"{slow_server_url}/data", params={"group": 2, "date": "2013-06-15"}, timeout=60
    )
    assert response.status_code == 200
    assert response.json()["rows"] == rows_of(three_groups, 2, "2013-06-15")


def test_one_group_serves_every_flight_of_the_year():
    catalog = day_catalog(groups=1)
    days = [catalog.first_date + dt.timedelta(days=n) for n in range(365)]
    assert (catalog.first_date, days[-1]) == (dt.date(2013, 1, 1), catalog.last_date)
    assert sum(len(catalog.records(1, day)) for day in days) == 336_776
