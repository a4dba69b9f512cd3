"""Runs the locustfile headless in subprocesses: alone, or one master and N local workers.

Used by `proyecto4 loadtest` and the tests. Locust itself is never imported here: it
patches the whole process with gevent on import.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

from proyecto4_common.net import free_port

from loadtest.thresholds import Totals

LOCUSTFILE = Path(__file__).with_name("locustfile.py")


def run(
    host: str,
    users: int = 10,
    spawn_rate: float = 5.0,
    run_time: str = "30s",
    *,
    workers: int = 0,
    report_dir: str | Path | None = None,
    csv_prefix: str | Path | None = None,
    html: str | Path | None = None,
    max_failure_ratio: float = 0.01,
    max_p95_ms: float = 0.0,
    batch_size: int = 50,
    sample_file: str | Path | None = None,
    spec_wait: float = 60.0,
    extra_args: list[str] | tuple[str, ...] = (),
) -> int:
    """Runs one headless load test against `host` and returns locust's exit code:
    0 when every limit holds, 1 when a limit is broken (the summary says which).

    `workers` > 0 runs a master and that many worker processes on this machine.
    `report_dir` holds `loadtest_stats.csv` (and locust's other CSVs) and `loadtest.html`,
    unless `csv_prefix` / `html` say otherwise.
    `max_failure_ratio` < 0 or `max_p95_ms` == 0 switch that limit off.
    """
    if report_dir:
        csv_prefix = csv_prefix or Path(report_dir) / "loadtest"
        html = html or Path(report_dir) / "loadtest.html"
    options = [
        f"--batch-size={batch_size}",
        f"--spec-wait={spec_wait}",
        f"--max-failure-ratio={max_failure_ratio}",
        f"--max-p95-ms={max_p95_ms}",
    ]
    if sample_file:
        options.append(f"--sample-file={sample_file}")
    command = locust_command(
        "--headless",
        f"--host={host}",
        f"--users={users}",
        f"--spawn-rate={spawn_rate}",
        f"--run-time={run_time}",
        # Users finish the request in flight, so every answered request is counted.
        "--stop-timeout=10",
        *options,
        *(_report_args(csv_prefix, html)),
        *extra_args,
    )
    if not workers:
        return subprocess.run(command, check=False).returncode
    return _run_distributed(command, workers)


def locust_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *args]


def _report_args(csv_prefix, html) -> list[str]:
    args = []
    if csv_prefix:
        Path(csv_prefix).parent.mkdir(parents=True, exist_ok=True)
        args.append(f"--csv={csv_prefix}")
    if html:
        Path(html).parent.mkdir(parents=True, exist_ok=True)
        args.append(f"--html={html}")
    return args


def _run_distributed(master_command: list[str], workers: int) -> int:
    port = free_port()
    master = subprocess.Popen(
        [
            *master_command,
            "--master",
            "--master-bind-host=127.0.0.1",
            f"--master-bind-port={port}",
            f"--expect-workers={workers}",
            "--expect-workers-max-wait=60",
        ]
    )
    # Workers take their options (host, payload settings) from the master.
    worker_command = locust_command("--worker", "--master-host=127.0.0.1", f"--master-port={port}")
    children = [subprocess.Popen(worker_command) for _ in range(workers)]
    try:
        code = master.wait()
        for child in children:
            child.wait(timeout=30)
        return code
    finally:
        for process in (master, *children):
            if process.poll() is None:
                process.kill()
                process.wait()


def read_totals(csv_prefix: str | Path) -> dict[str, Totals]:
    """The figures of a finished run by request name ("Aggregated" for all), from
    locust's `<prefix>_stats.csv`."""
    with open(f"{csv_prefix}_stats.csv", newline="") as fh:
        return {
            row["Name"]: Totals(
                requests=int(row["Request Count"]),
                failures=int(row["Failure Count"]),
                requests_per_s=float(row["Requests/s"]),
                p50_ms=_ms(row["50%"]),
                p95_ms=_ms(row["95%"]),
                p99_ms=_ms(row["99%"]),
            )
            for row in csv.DictReader(fh)
        }


def _ms(cell: str) -> float:
    # Locust writes "N/A" for a percentile of no request.
    return float("nan") if cell == "N/A" else float(cell)
