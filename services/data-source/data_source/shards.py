"""Stable, disjoint group shards: a flight's group depends only on its natural key."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

# One scheduled departure of a carrier's flight number from an airport on a day.
NATURAL_KEY = ("year", "month", "day", "carrier", "flight", "origin", "sched_dep_time")


def shard_hashes(flights: pd.DataFrame) -> np.ndarray:
    # crc32 rather than hash(): Python salts str hashes per process, shards must not move.
    first, *rest = (flights[name].astype(str) for name in NATURAL_KEY)
    keys = first.str.cat(rest, sep="-")
    return np.fromiter((zlib.crc32(key.encode()) for key in keys), dtype=np.uint32, count=len(keys))


def groups_of(hashes: np.ndarray, groups: int) -> np.ndarray:
    """Group numbers 1..groups, one per row."""
    return (hashes % groups + 1).astype(np.int64)
