"""What a release publishes, read from the repository: the release workflow's first job.

    python3 ci/release_plan.py --tag v0.1.0 --owner proyecto4 >> "$GITHUB_OUTPUT"

prints `key=value` lines for GitHub Actions:

- version: Chart.yaml's version, which must equal its appVersion and the tag without its "v";
- matrix: one entry per image of services/images.yaml (name, dockerfile, target, build-args)
  with `image`, the reference the chart pulls by default: global.proyecto4.imageRegistry +
  chart/<name>/values.yaml's image.repository + the chart's tag, or, for a dependency chart
  that reads no global (Airflow), the repository and tag in values.yaml. Every tag must be
  the version, or the release would push images the chart does not pull;
- chart-registry: where the chart is pushed, `oci://<imageRegistry>/charts`; the registry
  must be ghcr.io/<owner>, the only one the workflow's token can push to;
- chart-repositories: the non-OCI repositories of Chart.yaml's dependencies, which
  `helm dependency build` needs added first.

Exits non-zero with the reason when any of these disagree.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# Images of dependency charts that read no global: where values.yaml names them.
DEPENDENCY_IMAGES = {"airflow": ("airflow", "images", "airflow")}


class PlanError(ValueError):
    """The repository disagrees with itself or with the tag; the message says where."""


def load(path: str) -> dict:
    return yaml.safe_load((ROOT / path).read_text())


def dig(values: dict, keys: tuple[str, ...]) -> dict:
    for key in keys:
        values = values.get(key) or {}
    return values


def image_reference(name: str, values: dict) -> str:
    """registry/repository:tag as the chart renders it by default (see proyecto4-lib.image)."""
    if name in DEPENDENCY_IMAGES:
        image = dig(values, DEPENDENCY_IMAGES[name])
        return f"{image['repository']}:{image['tag']}"
    subchart = f"chart/{name}"
    image = load(f"{subchart}/values.yaml")["image"]
    default = dig(values, ("global", "proyecto4"))
    registry = image.get("registry") or default.get("imageRegistry")
    tag = (
        image.get("tag") or default.get("imageTag") or load(f"{subchart}/Chart.yaml")["appVersion"]
    )
    return f"{registry}/{image['repository']}:{tag}" if registry else f"{image['repository']}:{tag}"


def plan(tag: str, owner: str) -> dict[str, str]:
    chart = load("Chart.yaml")
    values = load("values.yaml")
    version = str(chart["version"])
    if str(chart["appVersion"]) != version:
        raise PlanError(f"Chart.yaml: appVersion {chart['appVersion']} != version {version}")
    if tag != f"v{version}":
        raise PlanError(f"tag {tag} is not v{version}, Chart.yaml's version")

    registry = dig(values, ("global", "proyecto4")).get("imageRegistry")
    expected = f"ghcr.io/{owner.lower()}"
    if registry != expected:
        raise PlanError(
            f"values.yaml: global.proyecto4.imageRegistry is {registry!r}, but this repository "
            f"publishes to {expected}"
        )

    matrix = []
    for entry in load("services/images.yaml")["images"]:
        image = image_reference(entry["name"], values)
        if not image.startswith(f"{expected}/") or not image.endswith(f":{version}"):
            raise PlanError(
                f"{entry['name']}: the chart pulls {image}, not {expected}/...:{version}"
            )
        args = entry.get("args") or {}
        matrix.append(
            {
                "name": entry["name"],
                "dockerfile": entry["dockerfile"],
                "target": entry.get("target", ""),
                "build-args": "\n".join(f"{key}={value}" for key, value in args.items()),
                "image": image,
            }
        )

    repositories = sorted(
        {
            d["repository"]
            for d in chart["dependencies"]
            if not d["repository"].startswith(("file://", "oci://"))
        }
    )
    return {
        "version": version,
        "matrix": json.dumps({"include": matrix}),
        "chart-registry": f"oci://{registry}/charts",
        "chart-repositories": " ".join(repositories),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tag", required=True, help="the pushed tag, e.g. v0.1.0")
    parser.add_argument("--owner", required=True, help="the repository's owner on GitHub")
    arguments = parser.parse_args()
    try:
        outputs = plan(arguments.tag, arguments.owner)
    except PlanError as error:
        print(f"::error::{error}", file=sys.stderr)
        return 1
    for key, value in outputs.items():
        print(f"{key}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
