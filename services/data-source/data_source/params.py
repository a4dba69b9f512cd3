"""Parsing of /data's query parameters into clear 4xx answers.

The parameters are taken as raw strings so that each mistake gets one sentence naming the
parameter, the value received and what is accepted, instead of a list of validator errors.
"""

from __future__ import annotations

import datetime as dt
import re

from fastapi import HTTPException, status

_INTEGER = re.compile(r"[+-]?\d+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_group(raw: str | None, groups: int) -> int:
    accepted = f"an integer from 1 to {groups}"
    if raw is None or not raw.strip():
        raise _invalid(f"query parameter 'group' is required: {accepted}")
    if not _INTEGER.fullmatch(raw):
        raise _invalid(f"group must be {accepted}, got {raw!r}")
    group = int(raw)
    if not 1 <= group <= groups:
        raise _invalid(
            f"group {group} is out of range: this source has {groups} group(s), 1 to {groups}"
        )
    return group


def parse_date(raw: str | None, first: dt.date, last: dt.date) -> dt.date:
    accepted = "a calendar date as YYYY-MM-DD"
    if raw is None or not raw.strip():
        raise _invalid(f"query parameter 'date' is required: {accepted}")
    try:
        if not _ISO_DATE.fullmatch(raw):
            raise ValueError(raw)
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise _invalid(f"date must be {accepted}, got {raw!r}") from None
    if not first <= day <= last:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"no data for {day}: the data set covers {first} to {last}",
        )
    return day


def _invalid(message: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, message)
