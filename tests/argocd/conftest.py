import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def helm() -> str:
    """The helm binary: HELM_BIN, else ci/install-helm.sh's helm 4, else helm on PATH."""
    candidates = [os.environ.get("HELM_BIN"), str(REPO / ".tools/helm4/helm"), shutil.which("helm")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.skip("no helm binary: run ci/install-helm.sh or set HELM_BIN")


@pytest.fixture(scope="session")
def render(helm):
    """`helm template` of a chart folder, parsed; fails the test with helm's own message."""

    def render(chart: Path, *args: str, release: str = "proyecto4") -> list[dict]:
        done = subprocess.run(
            [helm, "template", release, str(chart), *args],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return [doc for doc in yaml.safe_load_all(done.stdout) if doc]

    return render
