from pathlib import Path

import pytest
from chart.chart_render import helm, load_manifests

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def render():
    """`helm template` of a chart folder, parsed; fails the test with helm's own message."""

    def render(chart: Path, *args: str, release: str = "proyecto4") -> list[dict]:
        done = helm("template", release, str(chart), *args)
        assert done.returncode == 0, done.stderr
        return load_manifests(done.stdout)

    return render
