"""The optional key of a prediction: which flight (or which request) a record is about.

A record sent to /predict/ may carry it under `key`; it is not a feature. The API echoes it
and writes it to inference_log, where the live-quality step joins predictions with the
outcomes that arrive later in raw_data (date, carrier, flight number and origin identify
one flight of the data set). Shape: {"request_id": "...", "flight": {"date": "2013-03-01",
"carrier": "UA", "number": 1545, "origin": "EWR"}}, either part optional but not both. The replay command and Locust build keys with `flight_key`.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, NamedTuple

# The reserved field of a request record that holds the key.
KEY_FIELD = "key"

REQUEST_ID_PATTERN = r"^[A-Za-z0-9._:/-]{1,128}$"
CARRIER_PATTERN = r"^[A-Z0-9]{2}$"
ORIGIN_PATTERN = r"^[A-Z]{3}$"
FLIGHT_MAX = 9999
FLIGHT_FIELDS = ("date", "carrier", "number", "origin")

_REQUEST_ID = re.compile(REQUEST_ID_PATTERN)
_CARRIER = re.compile(CARRIER_PATTERN)
_ORIGIN = re.compile(ORIGIN_PATTERN)
# date.fromisoformat also takes "20130301" and week dates; the key takes one spelling only.
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class PredictionKeyError(ValueError):
    """A malformed key; the message names the field."""


class PredictionKey(NamedTuple):
    """The key as inference_log stores it (columns of tables.KEY_COLUMNS, same order)."""

    request_id: str | None
    flight_date: date | None
    flight_carrier: str | None
    flight_number: int | None
    flight_origin: str | None


def parse_key(value: Any) -> PredictionKey:
    """Validates a key object: a `request_id`, a `flight`, or both."""
    if not isinstance(value, dict) or not value:
        raise PredictionKeyError("key: expected a JSON object with a request_id, a flight or both")
    unknown = sorted(set(value) - {"request_id", "flight"})
    if unknown:
        raise PredictionKeyError("key: unknown field(s): " + ", ".join(unknown))
    request_id = value.get("request_id")
    if "request_id" in value and not (
        isinstance(request_id, str) and _REQUEST_ID.match(request_id)
    ):
        raise PredictionKeyError(
            "key.request_id: expected 1-128 characters of A-Z a-z 0-9 . _ : / -"
        )
    if "flight" not in value:
        return PredictionKey(request_id, None, None, None, None)
    flight = value["flight"]
    if not isinstance(flight, dict):
        raise PredictionKeyError("key.flight: expected an object with " + ", ".join(FLIGHT_FIELDS))
    if set(flight) != set(FLIGHT_FIELDS):
        missing = [f for f in FLIGHT_FIELDS if f not in flight]
        unknown = sorted(set(flight) - set(FLIGHT_FIELDS))
        parts = (["missing field(s): " + ", ".join(missing)] if missing else []) + (
            ["unknown field(s): " + ", ".join(unknown)] if unknown else []
        )
        raise PredictionKeyError("key.flight: " + "; ".join(parts))
    day = flight["date"]
    try:
        if not (isinstance(day, str) and _DATE.match(day)):
            raise ValueError
        flight_date = date.fromisoformat(day)
    except ValueError:
        raise PredictionKeyError("key.flight.date: expected a date as YYYY-MM-DD") from None
    carrier, number, origin = flight["carrier"], flight["number"], flight["origin"]
    # JSON Schema's integer includes 1545.0, as the API's integer features do.
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    if not (isinstance(carrier, str) and _CARRIER.match(carrier)):
        raise PredictionKeyError(
            "key.flight.carrier: expected a two-character carrier code such as UA"
        )
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= FLIGHT_MAX:
        raise PredictionKeyError(
            f"key.flight.number: expected a flight number from 1 to {FLIGHT_MAX}"
        )
    if not (isinstance(origin, str) and _ORIGIN.match(origin)):
        raise PredictionKeyError(
            "key.flight.origin: expected a three-letter airport code such as EWR"
        )
    return PredictionKey(request_id, flight_date, carrier, number, origin)


def flight_key(flight_date: date | str, carrier: str, number: int, origin: str) -> dict[str, Any]:
    """The key of one flight, as a client sends it."""
    day = flight_date if isinstance(flight_date, str) else flight_date.isoformat()
    return {"flight": {"date": day, "carrier": carrier, "number": int(number), "origin": origin}}


def json_schema() -> dict:
    """The key's JSON schema, for the API's OpenAPI document (what parse_key accepts)."""
    return {
        "type": "object",
        "description": "Not a feature: identifies the prediction (echoed, logged, later "
        "joined with the flight's outcome)",
        "properties": {
            "request_id": {"type": "string", "pattern": REQUEST_ID_PATTERN},
            "flight": {
                "type": "object",
                "properties": {
                    "date": {"type": "string", "format": "date"},
                    "carrier": {"type": "string", "pattern": CARRIER_PATTERN},
                    "number": {"type": "integer", "minimum": 1, "maximum": FLIGHT_MAX},
                    "origin": {"type": "string", "pattern": ORIGIN_PATTERN},
                },
                "required": list(FLIGHT_FIELDS),
                "additionalProperties": False,
            },
        },
        "minProperties": 1,
        "additionalProperties": False,
    }
