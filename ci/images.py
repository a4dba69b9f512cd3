"""Build the platform's images (`make images`): python ci/images.py [--bases ...] [NAME ...].

The list is services/images.yaml; each image is named as the chart names it by default
(global.proyecto4.imageRegistry, the subchart's image.repository, airflow.images.airflow.*;
the tag is Chart.yaml's appVersion), so a cluster that loads these images (`kind load`,
`minikube image load`) runs them with the chart's defaults. Prints each image's build seconds
and size. podman is used when present, docker otherwise.

Bases: the official images (python:3.11-slim-bookworm, apache/airflow:3.3.2-python3.11) when
a registry serves them; with `--bases standin`, or `auto` when none answers, stand-ins built
here from Debian packages (ci/standin/README.md).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
IMAGES_FILE = ROOT / "services" / "images.yaml"
# The bases the Dockerfiles name by default (their ARG defaults) and the stand-ins' tags.
OFFICIAL_BASES = {
    "PYTHON_IMAGE": "docker.io/library/python:3.11-slim-bookworm",
    "AIRFLOW_IMAGE": "docker.io/apache/airflow:3.3.2-python3.11",
}
STANDIN_BASES = {
    "PYTHON_IMAGE": "localhost/proyecto4-standin/python:3.11-slim-bookworm",
    "AIRFLOW_IMAGE": "localhost/proyecto4-standin/airflow:3.3.2-python3.11",
}
DEBIAN_MIRROR = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian")
# What the stand-in Python base holds: the interpreter, pip and CA certificates, as the
# official slim image does (`python` included; no compiler, no extra shared library).
STANDIN_PYTHON_PACKAGES = "python3.11,python3-pip,python-is-python3,ca-certificates"
# Inside a build, the machine's CA bundle replaces the image's (TLS-intercepting proxies).
IMAGE_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


class BuildError(RuntimeError):
    """A build step failed; the message says which and why."""


def engine() -> str:
    for name in ("podman", "docker"):
        if shutil.which(name):
            return name
    raise BuildError("neither podman nor docker is installed (Debian: bash ci/install-podman.sh)")


def load_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def image_list() -> list[dict]:
    return load_yaml(IMAGES_FILE)["images"]


def image_refs() -> dict[str, str]:
    """name -> registry/repository:tag, as the chart renders each image by default."""
    values = load_yaml(ROOT / "values.yaml")
    chart = load_yaml(ROOT / "Chart.yaml")
    ours = values["global"]["proyecto4"]
    tag = ours.get("imageTag") or chart["appVersion"]
    refs = {}
    for image in image_list():
        name = image["name"]
        if name == "airflow":
            airflow = values["airflow"]["images"]["airflow"]
            refs[name] = f"{airflow['repository']}:{airflow['tag']}"
            continue
        repository = load_yaml(ROOT / "chart" / name / "values.yaml")["image"]["repository"]
        registry = ours.get("imageRegistry")
        refs[name] = f"{registry}/{repository}:{tag}" if registry else f"{repository}:{tag}"
    return refs


def run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, check=False, **kwargs)
    if result.returncode != 0:
        raise BuildError(f"{' '.join(args[:4])} ... failed with exit code {result.returncode}")
    return result


def image_exists(ref: str) -> bool:
    return (
        subprocess.run(
            [engine(), "image", "inspect", ref], check=False, capture_output=True
        ).returncode
        == 0
    )


def official_bases_available() -> bool:
    """The official bases are present or can be pulled (a closed network says no at once)."""
    for ref in OFFICIAL_BASES.values():
        if not image_exists(ref):
            pulled = subprocess.run(
                [engine(), "pull", "--quiet", ref], check=False, capture_output=True, timeout=300
            )
            if pulled.returncode != 0:
                return False
    return True


def ca_build_options() -> list[str]:
    """Mount the machine's CA bundle (SSL_CERT_FILE, else Debian's) into build steps and name it
    to pip and uv (podman only): a TLS-intercepting proxy's CA is trusted there too."""
    bundle = os.environ.get("SSL_CERT_FILE") or IMAGE_CA_BUNDLE
    if not Path(bundle).is_file() or engine() != "podman":
        return []
    return [
        "-v",
        f"{Path(bundle).resolve()}:{IMAGE_CA_BUNDLE}:ro",
        "--build-arg",
        f"SSL_CERT_FILE={IMAGE_CA_BUNDLE}",
        "--build-arg",
        f"PIP_CERT={IMAGE_CA_BUNDLE}",
    ]


def build_python_standin() -> None:
    ref = STANDIN_BASES["PYTHON_IMAGE"]
    if image_exists(ref):
        return
    if not shutil.which("debootstrap"):
        raise BuildError("debootstrap is missing (bash ci/install-podman.sh installs it)")
    with tempfile.TemporaryDirectory(prefix="proyecto4-rootfs-") as rootfs:
        run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={STANDIN_PYTHON_PACKAGES}",
                "bookworm",
                rootfs,
                DEBIAN_MIRROR,
            ],
            stdout=subprocess.DEVNULL,
        )
        # As in the official image: pip may install into the interpreter (no PEP 668 marker),
        # and no package lists or downloaded archives stay behind.
        Path(rootfs, "usr/lib/python3.11/EXTERNALLY-MANAGED").unlink(missing_ok=True)
        for leftovers in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for path in Path(rootfs, leftovers).glob("*"):
                if path.is_file():
                    path.unlink()
        tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
        # Without PATH in the image's config, `podman kube play` finds no executable.
        run(
            [
                engine(),
                "import",
                "--change",
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "--change",
                "ENV LANG=C.UTF-8",
                "--change",
                'CMD ["python3"]',
                "-",
                ref,
            ],
            stdin=tar.stdout,
            stdout=subprocess.DEVNULL,
        )
        tar.wait()


def build_airflow_standin() -> None:
    ref = STANDIN_BASES["AIRFLOW_IMAGE"]
    if image_exists(ref):
        return
    run(
        [
            engine(),
            "build",
            "-f",
            "ci/standin/airflow.Dockerfile",
            "--build-arg",
            f"PYTHON_IMAGE={STANDIN_BASES['PYTHON_IMAGE']}",
            *ca_build_options(),
            "-t",
            ref,
            ".",
        ],
        cwd=ROOT,
    )


def git_revision() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, check=False, capture_output=True, text=True
    )
    return result.stdout.strip() if result.returncode == 0 else "unknown"


def build_image(image: dict, ref: str, bases: dict[str, str], quiet: bool) -> None:
    chart = load_yaml(ROOT / "Chart.yaml")
    args = [engine(), "build", "-f", image["dockerfile"], "-t", ref]
    if image.get("target"):
        args += ["--target", image["target"]]
    for key, value in {**bases, **image.get("args", {})}.items():
        args += ["--build-arg", f"{key}={value}"]
    labels = {
        "version": chart["appVersion"],
        "revision": git_revision(),
        "source": chart["home"],
        "licenses": chart["annotations"]["artifacthub.io/license"],
        "title": f"proyecto4-{image['name']}",
    }
    for key, value in labels.items():
        args += ["--label", f"org.opencontainers.image.{key}={value}"]
    args += ca_build_options()
    run([*args, "."], cwd=ROOT, stdout=subprocess.DEVNULL if quiet else None)


def image_size(ref: str) -> int:
    result = run(
        [engine(), "image", "inspect", ref, "--format", "{{.Size}}"], capture_output=True, text=True
    )
    return int(result.stdout.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="images to build (default: all)")
    parser.add_argument(
        "--bases",
        choices=("auto", "official", "standin"),
        default="auto",
        help="official base images, Debian-built stand-ins, or official when a registry serves them",
    )
    parser.add_argument("--quiet", action="store_true", help="hide the build output")
    options = parser.parse_args(argv)

    refs = image_refs()
    unknown = set(options.names) - set(refs)
    if unknown:
        parser.error(f"unknown image(s) {sorted(unknown)}; known: {sorted(refs)}")
    try:
        use_standins = options.bases == "standin" or (
            options.bases == "auto" and not official_bases_available()
        )
        if use_standins:
            print(
                "Building on stand-in bases made from Debian packages (no registry serves the official ones)."
            )
            build_python_standin()
            build_airflow_standin()
        bases = STANDIN_BASES if use_standins else OFFICIAL_BASES
        rows = []
        for image in image_list():
            if options.names and image["name"] not in options.names:
                continue
            ref = refs[image["name"]]
            print(f"==> {ref}", flush=True)
            started = time.monotonic()
            build_image(image, ref, bases, options.quiet)
            rows.append((ref, time.monotonic() - started, image_size(ref)))
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"\n{'image':<55} {'build s':>8} {'size MB':>8}")
    for ref, seconds, size in rows:
        print(f"{ref:<55} {seconds:>8.0f} {size / 1e6:>8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
