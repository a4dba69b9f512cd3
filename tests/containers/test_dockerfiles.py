"""Every Dockerfile passes hadolint; each ignore in them carries its reason on the line above."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from servers import REPO

DOCKERFILES = sorted(
    {
        REPO / image["dockerfile"]
        for image in yaml.safe_load((REPO / "services" / "images.yaml").read_text())["images"]
    }
    | set(REPO.glob("ci/standin/*.Dockerfile"))
)
HADOLINT = Path(sys.executable).parent / "hadolint"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(REPO)))
def test_hadolint_finds_nothing(dockerfile):
    result = subprocess.run(
        [str(HADOLINT), "--no-color", str(dockerfile)], check=False, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_ignore_says_why(dockerfile):
    lines = dockerfile.read_text().splitlines()
    for number, line in enumerate(lines):
        if "hadolint ignore" in line:
            assert (
                number > 0
                and lines[number - 1].startswith("#")
                and "hadolint" not in lines[number - 1]
            ), f"{dockerfile.name}:{number + 1}: say why above the ignore"


def test_no_buildkit_only_instructions():
    """Debian's podman (buildah), Kaniko and older builders refuse BuildKit's labs syntax."""
    for dockerfile in DOCKERFILES:
        text = dockerfile.read_text()
        assert "COPY --parents" not in text and "dockerfile:1.7-labs" not in text, dockerfile.name
