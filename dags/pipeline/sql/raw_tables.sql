-- Tables of the extraction step. Plain SQL that PostgreSQL and SQLite both accept.

-- The rows as the source sent them, plus where they came from.
CREATE TABLE IF NOT EXISTS raw_data (
    source_group    INTEGER          NOT NULL,
    source_date     DATE             NOT NULL,
    year            INTEGER,
    month           INTEGER,
    day             INTEGER,
    dep_time        DOUBLE PRECISION,
    sched_dep_time  INTEGER,
    dep_delay       DOUBLE PRECISION,
    arr_time        DOUBLE PRECISION,
    sched_arr_time  INTEGER,
    arr_delay       DOUBLE PRECISION,
    carrier         TEXT,
    flight          INTEGER,
    tailnum         TEXT,
    origin          TEXT,
    dest            TEXT,
    air_time        DOUBLE PRECISION,
    distance        DOUBLE PRECISION,
    hour            INTEGER,
    minute          INTEGER,
    time_hour       TEXT,
    temp            DOUBLE PRECISION,
    dewp            DOUBLE PRECISION,
    humid           DOUBLE PRECISION,
    wind_dir        DOUBLE PRECISION,
    wind_speed      DOUBLE PRECISION,
    wind_gust       DOUBLE PRECISION,
    precip          DOUBLE PRECISION,
    pressure        DOUBLE PRECISION,
    visib           DOUBLE PRECISION
);

CREATE INDEX IF NOT EXISTS raw_data_batch ON raw_data (source_group, source_date);

-- One row per (group, date) batch written: re-ingesting a batch replaces its rows, and the
-- newest date is the watermark the next run continues from.
CREATE TABLE IF NOT EXISTS ingestion_ledger (
    source_group    INTEGER          NOT NULL,
    source_date     DATE             NOT NULL,
    row_count       INTEGER          NOT NULL,
    ingested_at     TIMESTAMP        NOT NULL,
    PRIMARY KEY (source_group, source_date)
);
