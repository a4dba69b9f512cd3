import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
# The chart tests' render helpers (helm binary choice, offline platform renders).
sys.path.insert(0, str(REPO / "tests/chart"))

from chart_render import helm


@pytest.fixture(scope="session")
def render():
    """`helm template` of a chart folder, parsed; fails the test with helm's own message."""

    def render(chart: Path, *args: str, release: str = "proyecto4") -> list[dict]:
        done = helm("template", release, str(chart), *args)
        assert done.returncode == 0, done.stderr
        return [doc for doc in yaml.safe_load_all(done.stdout) if doc]

    return render
