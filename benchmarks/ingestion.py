"""Ingestion throughput into PostgreSQL for the whole year (not a test: prints figures).

Three measurements on the same rows (the 2013 flights joined with weather, as the data
source serves them):
  1. our block writer (COPY in blocks of PIPELINE_BLOCK_SIZE rows),
  2. pandas DataFrame.to_sql (method=None, chunks of the same size), the usual baseline,
  3. extract_data end to end: 365 HTTP requests to a local data source, parsing,
     validation and the writer.
Each runs in a fresh database on the PostgreSQL at BENCH_POSTGRES_URL
(default postgresql+psycopg://postgres@127.0.0.1:5432/postgres).

    uv run python benchmarks/ingestion.py
"""

from __future__ import annotations

import os
import time
from datetime import date

import pandas as pd
from pipeline.db import make_engine, run_sql_file, write_frame
from pipeline.extract import ingest
from pipeline.settings import PipelineSettings
from proyecto4.devkit import throwaway_database, uvicorn_app
from sqlalchemy import text
from sqlalchemy.engine import make_url

ADMIN = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def year_rows() -> pd.DataFrame:
    from data_source.flights import load_flights

    rows = load_flights()
    rows.insert(0, "source_date", pd.to_datetime(rows[["year", "month", "day"]]).dt.date)
    rows.insert(0, "source_group", 1)
    return rows


def timed(label: str, rows: int, run) -> float:
    with throwaway_database(ADMIN, "bench") as url:
        engine = make_engine(url)
        run_sql_file(engine, "raw_tables.sql")
        began = time.perf_counter()
        run(engine, url)
        seconds = time.perf_counter() - began
        with engine.connect() as conn:
            written = conn.execute(text("SELECT COUNT(*) FROM raw_data")).scalar_one()
        engine.dispose()
    rate = written / seconds
    print(f"{label:<38} {written:>8,} rows  {seconds:7.2f} s  {rate:>10,.0f} rows/s", flush=True)
    assert written == rows, f"{label}: wrote {written}, expected {rows}"
    return rate


def main() -> None:
    block = PipelineSettings().pipeline_block_size
    frame = year_rows()
    columns = frame.columns.tolist()
    print(
        f"{len(frame):,} rows x {len(columns)} columns, blocks of {block:,}; PostgreSQL at {make_url(ADMIN).host}\n"
    )

    def ours(engine, _url):
        with engine.begin() as conn:
            write_frame(conn, "raw_data", frame, block)

    def pandas_to_sql(engine, _url):
        frame.to_sql("raw_data", engine, if_exists="append", index=False, chunksize=block)

    def end_to_end(_engine, url):
        with uvicorn_app("data_source.app:create_app") as source:
            settings = PipelineSettings(data_db_url=url, data_source_url=source)
            ingest(settings, start=date(2013, 1, 1), until=date(2013, 12, 31))

    copy_rate = timed("block writer (COPY)", len(frame), ours)
    pandas_rate = timed("pandas to_sql", len(frame), pandas_to_sql)
    print(f"\nCOPY writer / to_sql: {copy_rate / pandas_rate:.1f}x")
    timed("extract_data end to end (HTTP + COPY)", len(frame), end_to_end)


if __name__ == "__main__":
    main()
