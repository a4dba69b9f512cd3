"""Connections to the data database and fast bulk writes (COPY on PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date
from importlib import resources

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from proyecto4_common.database import create_database_engine
from sqlalchemy import Connection, Engine, inspect, text


def make_engine(url: str) -> Engine:
    """An engine for DATA_DB_URL (any spelling proyecto4_common.database accepts)."""
    return create_database_engine(url, pool_pre_ping=True)


def as_date(value) -> date:
    """A DATE column's value as a date: PostgreSQL gives one, SQLite gives its text."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def run_sql_file(engine: Engine, name: str) -> None:
    """Runs one of the package's SQL files (statements separated by semicolons)."""
    script = resources.files("pipeline.sql").joinpath(name).read_text()
    statements = [s.strip() for s in _strip_comments(script).split(";") if s.strip()]
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def _strip_comments(script: str) -> str:
    return "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("--"))


def table_columns(engine: Engine, table: str) -> list[str]:
    return [c["name"] for c in inspect(engine).get_columns(table)]


def write_frame(conn: Connection, table: str, frame: pd.DataFrame, block_size: int) -> int:
    """Appends `frame` to `table` inside the caller's transaction, in blocks of rows."""
    starts = range(0, len(frame), block_size)
    if conn.dialect.name == "postgresql":
        rows = pa.Table.from_pandas(frame, preserve_index=False)
        _copy_blocks(conn, table, list(frame.columns), [rows.slice(s, block_size) for s in starts])
    else:
        for start in starts:
            _insert_block(conn, table, frame.iloc[start : start + block_size])
    return len(frame)


def _csv_bytes(block: pa.Table) -> bytes:
    # Arrow's CSV writer is several times faster than DataFrame.to_csv. It quotes every
    # string and leaves nulls as bare empty fields, which COPY ... FORMAT csv reads as NULL
    # (and "" as an empty string), so nothing is lost either way.
    out = pa.BufferOutputStream()
    pa_csv.write_csv(block, out, pa_csv.WriteOptions(include_header=False))
    return out.getvalue().to_pybytes()


def _copy_blocks(conn: Connection, table: str, columns: list[str], blocks: list[pa.Table]) -> None:
    """One COPY stream; the next block is encoded in a thread (Arrow releases the GIL)
    while PostgreSQL parses the previous one."""
    names = ", ".join(f'"{c}"' for c in columns)
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        with (
            ThreadPoolExecutor(max_workers=1) as encoder,
            cursor.copy(f'COPY "{table}" ({names}) FROM STDIN WITH (FORMAT csv)') as copy,
        ):
            for data in encoder.map(_csv_bytes, blocks):
                copy.write(data)
    finally:
        cursor.close()


def _insert_block(conn: Connection, table: str, block: pd.DataFrame) -> None:
    """SQLite (the other backend DATA_DB_URL takes): one executemany of plain tuples through
    the driver (sqlite3 loops over them in C). A SQLAlchemy statement with a dict per row
    spent most of a 200,000-row rewrite of clean_data building and binding the dicts."""
    columns = ", ".join(f'"{c}"' for c in block.columns)
    marks = ", ".join("?" * len(block.columns))  # sqlite3's qmark style
    plain = block.astype(object)
    plain = plain.where(plain.notna(), None)  # NaN and NA as NULL
    conn.exec_driver_sql(
        f'INSERT INTO "{table}" ({columns}) VALUES ({marks})',
        list(plain.itertuples(index=False, name=None)),
    )


def replace_table(engine: Engine, table: str, frame: pd.DataFrame, block_size: int) -> None:
    """Replaces `table` by `frame` so that readers see the old table or the new one, never half.

    The rows go to a staging table first; the swap (drop + rename) is one transaction.
    """
    staging = f"{table}__staging"
    with engine.begin() as conn:
        conn.execute(text(f'DROP TABLE IF EXISTS "{staging}"'))
    frame.head(0).to_sql(staging, engine, index=False)
    with engine.begin() as conn:
        write_frame(conn, staging, frame, block_size)
    with engine.begin() as conn:
        conn.execute(text(f'DROP TABLE IF EXISTS "{table}"'))
        conn.execute(text(f'ALTER TABLE "{staging}" RENAME TO "{table}"'))
