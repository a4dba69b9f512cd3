"""Where the test suite's time goes: the ten slowest tests and the time per test folder,
read from the JUnit XML files `make test` writes under test-artifacts/ (one per Helm pass).

    python ci/test_durations.py [test-artifacts/junit-*.xml ...]

Fixture set-up is counted in the first test that asks for the fixture, as pytest reports it.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

DEFAULT = sorted(Path("test-artifacts").glob("junit-*.xml"))
SLOWEST = 10


def cases(path: Path) -> list[tuple[str, str, float]]:
    """(pass, test id, seconds) of every test case in one JUnit file."""
    name = path.stem.removeprefix("junit-")
    return [
        (name, f"{case.get('classname', '')}::{case.get('name', '')}", float(case.get("time", 0)))
        for case in ET.parse(path).getroot().iter("testcase")
    ]


def folder_of(test_id: str) -> str:
    """tests.chart.test_chart_schema.TestX::test_y -> tests/chart"""
    parts = test_id.split("::", 1)[0].split(".")
    return "/".join(parts[:2]) if len(parts) > 2 else parts[0]


def report(paths: list[Path]) -> str:
    found = [c for path in paths if path.is_file() for c in cases(path)]
    if not found:
        return "no JUnit files with test cases: " + (", ".join(map(str, paths)) or "none given")
    lines = [f"{'seconds':>8}  ten slowest tests"]
    for run, test, seconds in sorted(found, key=lambda c: -c[2])[:SLOWEST]:
        lines.append(f"{seconds:8.1f}  [{run}] {test}")
    per_folder: dict[tuple[str, str], list[float]] = defaultdict(list)
    for run, test, seconds in found:
        per_folder[(run, folder_of(test))].append(seconds)
    lines.append(f"\n{'seconds':>8} {'tests':>6}  per folder")
    for (run, folder), times in sorted(per_folder.items(), key=lambda item: -sum(item[1])):
        lines.append(f"{sum(times):8.1f} {len(times):6d}  [{run}] {folder}")
    for run in sorted({c[0] for c in found}):
        total = sum(c[2] for c in found if c[0] == run)
        lines.append(f"{total:8.1f} {'':6}  [{run}] in all")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report([Path(p) for p in sys.argv[1:]] or DEFAULT))
