"""Write Chart.lock for Chart.yaml without network, the way `helm dependency update` would.

Every dependency is pinned to an exact version, so the lock lists the same name, version and
repository. The digest is Helm's: "sha256:" + sha256 of Go's compact JSON of
[requirements, locked] with the fields of chart.Dependency in Go's order (empty optional ones
omitted). `helm dependency build` checks it before any download and says "out of sync" when
it disagrees; tests/chart proves it does not.

    python ci/chart_lock.py            # rewrite Chart.lock
    python ci/chart_lock.py --check    # exit 1 when Chart.lock is stale
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
# Field order and omitempty rules of helm's chart.Dependency (name and repository always present).
FIELDS = ("name", "version", "repository", "condition", "tags", "enabled", "import-values", "alias")
ALWAYS = {"name", "repository"}


def go_dependency(dep: dict) -> dict:
    return {k: dep[k] for k in FIELDS if k in ALWAYS or dep.get(k) not in (None, "", [], False)}


def digest(requirements: list[dict], locked: list[dict]) -> str:
    payload = [[go_dependency(d) for d in requirements], [go_dependency(d) for d in locked]]
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def expected_lock(chart_yaml: Path) -> dict:
    requirements = yaml.safe_load(chart_yaml.read_text())["dependencies"]
    locked = [{k: d[k] for k in ("name", "repository", "version")} for d in requirements]
    return {"dependencies": locked, "digest": digest(requirements, locked)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check Chart.lock")
    args = parser.parse_args()
    lock_path = ROOT / "Chart.lock"
    want = expected_lock(ROOT / "Chart.yaml")
    if args.check:
        have = yaml.safe_load(lock_path.read_text())
        stale = {k: have.get(k) for k in want} != want
        print("Chart.lock is stale" if stale else "Chart.lock is in sync")
        return 1 if stale else 0
    want["generated"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    lock_path.write_text(yaml.safe_dump(want, sort_keys=False))
    print(f"wrote {lock_path.relative_to(ROOT)} {want['digest']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
