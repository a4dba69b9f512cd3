"""The row fields of the data source contract (team brief), as the tests expect them."""

# The contract's row fields, in order: the flight columns, then the origin's weather.
FLIGHT_FIELDS = [
    "year", "month", "day", "dep_time", "sched_dep_time", "dep_delay", "arr_time",
    "sched_arr_time", "arr_delay", "carrier", "flight", "tailnum", "origin", "dest",
    "air_time", "distance", "hour", "minute", "time_hour",
]  # fmt: skip
WEATHER_FIELDS = [
    "temp", "dewp", "humid", "wind_dir", "wind_speed", "wind_gust", "precip", "pressure", "visib",
]  # fmt: skip
STRING_FIELDS = {"carrier", "tailnum", "origin", "dest", "time_hour"}
