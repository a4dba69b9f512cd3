"""Render the umbrella chart with the real `helm` binary, offline.

`render_chart(values=..., show_only=..., value_files=...)` runs `helm template` on a temporary
copy of the repository's chart whose charts/ folder is filled without network:

- the in-repo subcharts (chart/<name>) are copied in, as `helm dependency build` would;
- the external dependencies are minimal stub charts with the right names and versions, or,
  when PROYECTO4_DEPS_DIR names a folder of packaged real charts (see
  ci/package-real-deps.sh), those packages.

The helm binary is HELM_BIN (default .tools/helm4/helm, else `helm` on PATH). Renders are
cached per arguments, so each values set is rendered once per session.
"""

from __future__ import annotations

import atexit
import base64
import configparser
import functools
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
RELEASE = "proyecto4"
NAMESPACE = "proyecto4"
# What the chart is made of; everything else in the repository stays out of the copy.
CHART_PARTS = (
    "Chart.yaml",
    "Chart.lock",
    "values.yaml",
    "values.schema.json",
    ".helmignore",
    "values",
    "templates",
    "chart",
    "files",
)


def helm_bin() -> str:
    configured = os.environ.get("HELM_BIN")
    if configured:
        return str(Path(configured).resolve()) if "/" in configured else configured
    bundled = ROOT / ".tools" / "helm4" / "helm"
    return str(bundled) if bundled.exists() else "helm"


def real_deps_dir() -> Path | None:
    folder = os.environ.get("PROYECTO4_DEPS_DIR")
    return Path(folder) if folder else None


def chart_dependencies() -> list[dict]:
    return yaml.safe_load((ROOT / "Chart.yaml").read_text())["dependencies"]


def external_dependencies() -> list[dict]:
    return [d for d in chart_dependencies() if not d["repository"].startswith("file://")]


def copy_chart(destination: Path) -> Path:
    """The chart's own files (no charts/ folder) copied to destination."""
    destination.mkdir(parents=True, exist_ok=True)
    for part in CHART_PARTS:
        source = ROOT / part
        if source.is_dir():
            # symlinks=False: the subcharts' charts/proyecto4-lib links are copied as folders.
            shutil.copytree(source, destination / part, symlinks=False)
        elif source.exists():
            shutil.copy2(source, destination / part)
    return destination


def write_stub(charts: Path, dependency: dict) -> None:
    """A chart with the dependency's name and version and no objects."""
    stub = charts / dependency["name"]
    (stub / "templates").mkdir(parents=True)
    metadata = {
        "apiVersion": "v2",
        "name": dependency["name"],
        "version": dependency["version"],
        "description": "offline stand-in for the real dependency",
        "type": "application",
    }
    (stub / "Chart.yaml").write_text(yaml.safe_dump(metadata))


def fill_charts_folder(chart: Path, deps_dir: Path | None) -> None:
    charts = chart / "charts"
    charts.mkdir()
    for dependency in chart_dependencies():
        repository = dependency["repository"]
        if repository.startswith("file://"):
            shutil.copytree(
                chart / repository.removeprefix("file://"),
                charts / dependency["name"],
                symlinks=False,
            )
        elif deps_dir:
            package = deps_dir / f"{dependency['name']}-{dependency['version']}.tgz"
            if not package.exists():
                raise FileNotFoundError(f"{package} missing: run ci/package-real-deps.sh")
            shutil.copy2(package, charts / package.name)
        else:
            write_stub(charts, dependency)


@functools.lru_cache(maxsize=2)
def prepared_chart(deps_dir: Path | None = None) -> Path:
    """A temporary chart copy with a filled charts/ folder (the packaged dependencies of
    deps_dir or PROYECTO4_DEPS_DIR, else stubs), made once per process and folder."""
    deps_dir = deps_dir or real_deps_dir()
    workdir = Path(tempfile.mkdtemp(prefix="proyecto4-chart-"))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    chart = copy_chart(workdir / "proyecto4")
    fill_charts_folder(chart, deps_dir)
    return chart


def helm(*args: str, cwd: Path | None = None, check: bool = False) -> subprocess.CompletedProcess:
    """Run helm offline (no repository cache of the user's is read)."""
    env = {
        **os.environ,
        "HELM_CACHE_HOME": str(Path(tempfile.gettempdir()) / "proyecto4-helm-cache"),
        "HELM_CONFIG_HOME": str(Path(tempfile.gettempdir()) / "proyecto4-helm-config"),
    }
    return subprocess.run(
        [helm_bin(), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=check,
        timeout=300,
    )


# libyaml's loader: a full render is ~0.8 MB of YAML, ~4 s in the pure-Python loader, 0.3 s here.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_manifests(text: str) -> list[dict]:
    """The non-empty documents of a multi-document YAML stream (helm's output)."""
    return [doc for doc in yaml.load_all(text, Loader=YAML_LOADER) if doc]


class RenderError(RuntimeError):
    """helm template failed; the message is helm's stderr."""


# Renders are ~1 MB each and the suite asks for a few hundred distinct ones: keep them all.
@functools.lru_cache(maxsize=512)
def _render(
    values_json: str,
    show_only: tuple[str, ...],
    value_files: tuple[str, ...],
    deps_dir: Path | None,
    release: str = RELEASE,
) -> str:
    chart = prepared_chart(deps_dir)
    args = ["template", release, str(chart), "--namespace", NAMESPACE]
    for value_file in value_files:
        args += ["-f", str(chart / value_file)]
    if values_json != "null":
        overrides = chart.parent / f"overrides-{abs(hash(values_json))}.json"
        overrides.write_text(values_json)
        args += ["-f", str(overrides)]
    for template in show_only:
        args += ["--show-only", template]
    result = helm(*args)
    if result.returncode != 0:
        raise RenderError(result.stderr.strip())
    return result.stdout


def render_with_sources(
    values: dict | None = None,
    show_only: str | list[str] | tuple = (),
    value_files: list[str] | tuple = (),
    deps_dir: Path | None = None,
    release: str = RELEASE,
) -> list[tuple[str, dict]]:
    """(template path, object) of `helm template`, e.g. ("proyecto4/charts/mlflow/templates/service.yaml", {...}).

    values: overrides applied last; show_only: template paths as helm names them (e.g.
    "charts/mlflow/templates/job-db-migrate.yaml"); value_files: paths relative to the chart
    root (e.g. "values/dev.yaml"), or absolute paths; deps_dir: a folder of packaged real
    dependency charts (default: PROYECTO4_DEPS_DIR, else stubs); release: the release name.
    Raises RenderError with helm's message on failure.
    """
    if isinstance(show_only, str):
        show_only = (show_only,)
    text = _render(
        json.dumps(values, sort_keys=True), tuple(show_only), tuple(value_files), deps_dir, release
    )
    rendered = []
    for document in text.split("\n---\n"):
        obj = yaml.load(document, Loader=YAML_LOADER)
        if obj:
            source = next(
                (
                    line.removeprefix("# Source: ")
                    for line in document.splitlines()
                    if line.startswith("# Source: ")
                ),
                "",
            )
            rendered.append((source, obj))
    return rendered


def render_chart(
    values: dict | None = None,
    show_only: str | list[str] | tuple = (),
    value_files: list[str] | tuple = (),
    deps_dir: Path | None = None,
    release: str = RELEASE,
) -> list[dict]:
    """Objects of `helm template` as dicts; arguments as in render_with_sources."""
    return [
        obj for _, obj in render_with_sources(values, show_only, value_files, deps_dir, release)
    ]


def find(objects: list[dict], kind: str, name: str) -> dict:
    """The one object of that kind and name (AssertionError listing the kind's names otherwise)."""
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    names = sorted(o["metadata"]["name"] for o in objects if o["kind"] == kind)
    assert len(matches) == 1, f"{kind}/{name} not rendered once; {kind} objects: {names}"
    return matches[0]


def pod_specs(objects: list[dict]) -> list[tuple[str, dict]]:
    """(kind/name, pod spec) of every workload and pod among objects."""
    specs = []
    for obj in objects:
        spec = obj.get("spec") or {}
        label = f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] == "Pod":
            specs.append((label, spec))
        elif obj["kind"] == "CronJob":
            specs.append((label, spec["jobTemplate"]["spec"]["template"]["spec"]))
        elif "template" in spec and "spec" in spec["template"]:
            specs.append((label, spec["template"]["spec"]))
    return specs


# Environment layers applied with -f on top of values.yaml.
# prod as an operator installs it: values/prod.yaml and their own hosts over its placeholders.
PROD_SITE = str(ROOT / "tests/chart/values-prod-site.yaml")
LAYERS = {"base": (), "dev": ("values/dev.yaml",), "prod": ("values/prod.yaml", PROD_SITE)}
# Templates the observability engineer owns; their tests cover them.
MONITORING_PREFIX = "proyecto4/templates/monitoring-"


def is_ours(source: str) -> bool:
    """Rendered by the umbrella's or an in-repo subchart's templates (not a dependency's)."""
    ours = (
        "proyecto4/templates/",
        "proyecto4/charts/inference-api/",
        "proyecto4/charts/streamlit/",
        "proyecto4/charts/locust/",
        "proyecto4/charts/mlflow/",
        "proyecto4/charts/data-source/",
    )
    return source.startswith(ours) and not source.startswith(MONITORING_PREFIX)


def container_env(objects: list[dict], container: dict) -> dict[str, tuple[str, str | None]]:
    """name -> (source, value) of a container's environment as Kubernetes builds it: envFrom
    first, env over it. source is "value", "ConfigMap/<name>" or "Secret/<name>"; value is
    the rendered string, or None when the object is not among objects (a Secret of yours)."""

    def data(kind: str, name: str) -> dict[str, str] | None:
        found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
        if not found:
            return None
        if kind == "Secret":
            return {
                k: base64.b64decode(v).decode() for k, v in (found[0].get("data") or {}).items()
            }
        return found[0].get("data") or {}

    env: dict[str, tuple[str, str | None]] = {}
    for source in container.get("envFrom") or []:
        kind = "ConfigMap" if "configMapRef" in source else "Secret"
        name = source.get("configMapRef", source.get("secretRef"))["name"]
        values = data(kind, name)
        if values is None:
            # Unrendered: its keys are unknown here; record the reference itself.
            env[f"<{kind}/{name}>"] = (f"{kind}/{name}", None)
        for key, value in (values or {}).items():
            env[key] = (f"{kind}/{name}", value)
    for item in container.get("env") or []:
        ref = item.get("valueFrom") or {}
        if "value" in item or not ref:
            env[item["name"]] = ("value", item.get("value", ""))
            continue
        if "configMapKeyRef" not in ref and "secretKeyRef" not in ref:
            env[item["name"]] = ("valueFrom", None)  # fieldRef, resourceFieldRef
            continue
        kind = "ConfigMap" if "configMapKeyRef" in ref else "Secret"
        key_ref = ref["configMapKeyRef"] if kind == "ConfigMap" else ref["secretKeyRef"]
        values = data(kind, key_ref["name"])
        env[item["name"]] = (f"{kind}/{key_ref['name']}", (values or {}).get(key_ref["key"]))
    return env


def airflow_cfg(objects: list[dict], release: str = RELEASE) -> configparser.ConfigParser:
    """The airflow.cfg the real Airflow chart renders into ConfigMap <release>-config."""
    config = configparser.ConfigParser(interpolation=None)
    config.read_string(find(objects, "ConfigMap", f"{release}-config")["data"]["airflow.cfg"])
    return config


def airflow_worker(objects: list[dict], release: str = RELEASE) -> dict:
    """The task container ("base") of the KubernetesExecutor's pod template the real Airflow
    chart renders (pod_template_file.yaml in ConfigMap <release>-config)."""
    data = find(objects, "ConfigMap", f"{release}-config")["data"]
    pod = yaml.safe_load(data["pod_template_file.yaml"])
    return next(c for c in pod["spec"]["containers"] if c["name"] == "base")
