"""Pulls the whole data set from a real data source process, day by day, as the pipeline does.

    uv run python benchmarks/data_source_pull.py [--groups N]

Prints requests, rows, bytes, seconds and rows/s (the client parses every answer's JSON).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import httpx
from proyecto4.devkit import uvicorn_app


def pull_everything(url: str) -> tuple[int, int, int]:
    requests = rows = size = 0
    with httpx.Client(base_url=url, timeout=60) as client:
        meta = client.get("/metadata").raise_for_status().json()
        day = dt.date.fromisoformat(meta["first_date"])
        while day <= dt.date.fromisoformat(meta["last_date"]):
            for group in range(1, meta["groups"] + 1):
                response = client.get("/data", params={"group": group, "date": day.isoformat()})
                rows += response.raise_for_status().json()["count"]
                size += len(response.content)
                requests += 1
            day += dt.timedelta(days=1)
    return requests, rows, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=1)
    args = parser.parse_args()
    with uvicorn_app("data_source.app:create_app", {"DATA_SOURCE_GROUPS": str(args.groups)}) as url:
        started = time.perf_counter()
        requests, rows, size = pull_everything(url)
        seconds = time.perf_counter() - started
    print(
        f"groups={args.groups}: {requests} requests, {rows:,} rows, {size / 1e6:.0f} MB "
        f"in {seconds:.1f} s: {rows / seconds:,.0f} rows/s, {seconds / requests * 1000:.1f} ms/request"
    )


if __name__ == "__main__":
    main()
