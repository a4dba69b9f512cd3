"""What the READMEs claim, checked where a machine can check it: every values path named
exists, every repository path and metric named exists, every `make` target, `proyecto4` and
`helm proyecto4` command and flag shown exists, and every object named for the default
release renders. Prose stays the writers' job; names drift, and this catches them."""

from __future__ import annotations

import json
import re
import tarfile
from functools import cache
from pathlib import Path

import click
import pytest
import typer
import yaml
from chart.chart_render import ROOT, real_deps_dir, render_chart
from proyecto4.cli import app
from proyecto4_common import names
from proyecto4_plugin.cli import build_parser

DOCS = sorted([ROOT / "README.md", *ROOT.glob("*/README.md"), *ROOT.glob("services/*/README.md")])
VALUES = yaml.safe_load((ROOT / "values.yaml").read_text())
# Top-level keys that are dependency charts: their paths may be the upstream chart's own.
DEPENDENCIES = {
    d.get("alias", d["name"])
    for d in yaml.safe_load((ROOT / "Chart.yaml").read_text())["dependencies"]
    if not d["repository"].startswith("file://")
}
# Dotted names that are not values paths although they start like one.
NOT_VALUES = {
    "mlflow.lightgbm",  # MLflow's LightGBM flavour (a Python module)
    "mlflow.pyfunc.load_model",  # MLflow's Python API
    "backup.cronjob",  # Bitnami PostgreSQL's own value, named as what we do instead
}
FILE_SUFFIXES = ("py", "pgdump", "gz", "sql", "json", "yaml", "md", "txt", "png", "db", "sh")
# Folders runs create (test screenshots, Locust's reports): not in a checkout.
GENERATED = {"test-artifacts", "reports"}
# Where a relative path may start: the repository, a chart (helm's --show-only paths).
CHART_FOLDERS = [ROOT, ROOT / "argocd", *sorted(p.parent for p in ROOT.glob("chart/*/Chart.yaml"))]
# Paths of MLflow artifacts (in a run, not in the repository).
ARTIFACTS = {
    value
    for value in vars(names).values()
    if isinstance(value, str) and "/" in value and not value.startswith(("http", "/"))
}
KIND_PREFIXES = {
    "job": "Job",
    "cronjob": "CronJob",
    "deploy": "Deployment",
    "deployment": "Deployment",
    "sts": "StatefulSet",
    "statefulset": "StatefulSet",
    "svc": "Service",
    "service": "Service",
    "secret": "Secret",
    "configmap": "ConfigMap",
    "cm": "ConfigMap",
}


def code_spans(text: str) -> list[str]:
    """Inline code and the lines of fenced blocks."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.DOTALL)
    inline = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.DOTALL))
    return [line for block in blocks for line in block.splitlines()] + inline


def claims(pattern: str) -> list[tuple[str, str]]:
    """(doc, match) of `pattern` in every doc's code."""
    found = []
    for doc in DOCS:
        for span in code_spans(doc.read_text()):
            found += [(str(doc.relative_to(ROOT)), m) for m in re.findall(pattern, span)]
    return found


def has_path(tree, path: list[str]) -> bool:
    for key in path:
        if not isinstance(tree, dict) or key not in tree:
            return False
        tree = tree[key]
    return True


@cache
def dependency_values(name: str) -> dict | None:
    folder = real_deps_dir()
    if folder is None:
        return None
    chart = {
        d.get("alias", d["name"]): d["name"]
        for d in yaml.safe_load((ROOT / "Chart.yaml").read_text())["dependencies"]
    }[name]
    [package] = sorted(Path(folder).glob(f"{chart}-*.tgz"))
    with tarfile.open(package) as tar:
        return yaml.safe_load(tar.extractfile(f"{chart}/values.yaml").read())


SCHEMA = json.loads((ROOT / "values.schema.json").read_text())


def in_schema(path: list[str]) -> bool:
    """`path` is a key values.schema.json accepts (a declared property all the way, or a
    free-form map such as `env` from where the schema stops declaring)."""
    node = SCHEMA
    for key in path:
        while "$ref" in node:
            node = SCHEMA["$defs"][node["$ref"].rsplit("/", 1)[1]]
        if key in node.get("properties", {}):
            node = node["properties"][key]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            free_form = node.get("type") == "object" and "properties" not in node
            return node.get("additionalProperties") is True or free_form
    return True


def is_module(parts: list[str]) -> bool:
    """A Python module of ours (pipeline.steps is dags/pipeline/steps.py)."""
    roots = [
        ROOT / "dags",
        ROOT / "common",
        ROOT / "cli",
        *ROOT.glob("services/*"),
        ROOT / "plugin",
    ]
    path = "/".join(parts)
    return any((r / f"{path}.py").exists() or (r / path / "__init__.py").exists() for r in roots)


def test_every_values_path_named_exists():
    named = claims(r"(?<![/\w.:-])([a-zA-Z][A-Za-z0-9-]*(?:\.[A-Za-z0-9_-]+)+)")
    missing = []
    for doc, path in sorted(set(named)):
        parts = path.split(".")
        if parts[0] not in VALUES or path in NOT_VALUES or parts[-1] in FILE_SUFFIXES:
            continue
        if any("_" in p and p.islower() for p in parts) or is_module(parts):
            continue  # a Python name (pipeline.first_run): values keys are camelCase
        if parts[0] not in DEPENDENCIES:
            if not in_schema(parts):
                missing.append(f"{doc}: {path}")
            continue
        # A dependency's block: ours, or the upstream chart's own key.
        upstream = dependency_values(parts[0])
        if not (has_path(VALUES, parts) or upstream is None or has_path(upstream, parts[1:])):
            missing.append(f"{doc}: {path}")
    assert missing == [], "\n".join(missing)


def test_every_repository_path_named_exists():
    named = claims(r"(?<![\w/.$:-])((?:\.?[\w-]+/)+[\w*.-]+\.\w+)\b")
    missing = []
    for doc, path in sorted(set(named)):
        first = path.split("/")[0]
        if path in ARTIFACTS or first.isupper() or first in GENERATED:
            continue  # an MLflow artifact, under an environment variable's folder, or output
        here = (ROOT / doc).parent
        if not any(list(base.glob(path)) for base in (here, *CHART_FOLDERS)):
            missing.append(f"{doc}: {path}")
    assert missing == [], "\n".join(missing)


def test_every_make_target_shown_exists():
    targets = set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), re.M))
    shown = {target for _, target in claims(r"\bmake ([a-z][\w-]*)")}
    assert shown and shown <= targets, shown - targets


def _flags(text: str) -> list[str]:
    return re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", text)


def test_every_proyecto4_command_and_flag_shown_exists():
    root = typer.main.get_command(app)
    problems = []
    for doc, rest in claims(r"(?:^|uv run |^\s*)(?<!helm )(?<![\w-])proyecto4 ([a-z].*)"):
        words = rest.split()
        command, used = root, []
        while isinstance(command, click.Group) and words and words[0] in command.commands:
            used.append(words[0])
            command = command.commands[words.pop(0)]
        if command is root:
            continue  # prose such as "proyecto4 is an MLOps platform"
        if isinstance(command, click.Group):
            problems.append(f"{doc}: proyecto4 {' '.join(used)} {' '.join(words)[:30]}")
            continue
        known = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
        problems += [
            f"{doc}: proyecto4 {' '.join(used)} {flag}"
            for flag in _flags(" ".join(words))
            if flag not in known | {"--help"}
        ]
    assert problems == []


def test_every_helm_plugin_command_and_flag_shown_exists():
    parser = build_parser()
    [commands] = [a for a in parser._actions if a.choices and a.dest == "command"]
    problems = []
    shown = claims(r"helm (?:-n \S+ )?proyecto4 ([a-z].*)")
    assert shown
    for doc, rest in shown:
        words = rest.split()
        if words[0] not in commands.choices:
            problems.append(f"{doc}: helm proyecto4 {words[0]}")
            continue
        known = {o for a in commands.choices[words[0]]._actions for o in a.option_strings}
        problems += [
            f"{doc}: helm proyecto4 {words[0]} {flag}"
            for flag in _flags(" ".join(words[1:]).split("#")[0])
            if flag not in known
        ]
    assert problems == []


@pytest.mark.skipif(real_deps_dir() is None, reason="needs the real dependency charts")
def test_every_object_named_renders_for_the_default_release():
    # The default release, with the optional parts the READMEs describe switched on.
    optional = {"locust": {"enabled": True}, "backup": {"enabled": True}}
    rendered = {(o["kind"], o["metadata"]["name"]) for o in render_chart() + render_chart(optional)}
    names_rendered = {name for _, name in rendered}
    missing = []
    for doc, (prefix, name) in claims(r"\b([a-z]+)/((?:<release>|proyecto4)-[a-z0-9-]+)"):
        if prefix in KIND_PREFIXES:
            name = name.replace("<release>", "proyecto4")
            if (KIND_PREFIXES[prefix], name) not in rendered:
                missing.append(f"{doc}: {prefix}/{name}")
    for doc, name in claims(r"^<release>-([a-z0-9-]+)$"):
        if f"proyecto4-{name}" not in names_rendered:
            missing.append(f"{doc}: <release>-{name}")
    assert missing == [], "\n".join(missing)


# What a metric named in the docs looks like: the API's Prometheus metrics and the MLflow run
# metrics of the pipeline (both named once, in proyecto4_common.names).
METRIC_PREFIXES = (
    "predict_",
    "predictions_",
    "served_model",
    "model_",
    "feature_drift",
    "inference_log_rows",
    "inference_log_wait",
    "auth_refusals",
    "backtest_auroc",
    "reference_psi",
    "random_split",
    "test_auroc",
    "test_accuracy",
    "val_auroc",
    "val_accuracy",
    "test_calibration",
)
# A brace right after `_` expands (model_live_{auroc,accuracy}); any other brace holds labels.
METRIC = re.compile(r"^([a-z][a-z0-9_]*?(?:_\{[a-z0-9_,]+\}[a-z0-9_]*)?)(?:\{[a-z_,]*\})?$")
# Series Prometheus derives from one metric (a histogram's buckets, a counter's creation).
DERIVED = ("_bucket", "_sum", "_count", "_created")


def expand(name: str) -> list[str]:
    match = re.search(r"_\{([a-z0-9_,]+)\}", name)
    if not match:
        return [name]
    head, tail = name[: match.start() + 1], name[match.end() :]
    return [n for part in match.group(1).split(",") for n in expand(head + part + tail)]


def test_every_metric_named_is_defined():
    defined = {v for v in vars(names).values() if isinstance(v, str)}
    named = [
        (doc, metric)
        for doc, span in claims(r"^[a-z][a-z0-9_{},]*$")
        if (found := METRIC.match(span)) and found.group(1).startswith(METRIC_PREFIXES)
        for metric in expand(found.group(1))
    ]
    missing = [
        (doc, metric)
        for doc, metric in named
        if not {metric, *(metric.removesuffix(s) for s in DERIVED if metric.endswith(s))} & defined
    ]

    assert len(named) > 20  # the pattern still finds the docs' metrics
    assert not missing, missing
