"""The chart as helm sees it: lint --strict, Chart.lock in sync (offline), package size, NOTES."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys

import pytest
import yaml
from chart.chart_render import LAYERS, ROOT, copy_chart, helm, prepared_chart

# Our own files, in KiB, compressed; the real dependencies add about 1.5 MiB.
MAX_PACKAGE_KIB = {"stubs": 100, "real": 2500}


@pytest.mark.parametrize("layer_name", sorted(LAYERS))
def test_lint_strict(layer_name):
    chart = prepared_chart()
    files = [arg for f in LAYERS[layer_name] for arg in ("-f", str(chart / f))]
    result = helm("lint", "--strict", str(chart), *files)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in result.stdout


def test_chart_lock_matches_chart_yaml_offline(tmp_path):
    """`helm dependency build` checks the lock's digest before any download."""
    chart = copy_chart(tmp_path / "proyecto4")
    result = helm("dependency", "build", str(chart))

    assert "out of sync" not in result.stdout + result.stderr


def test_a_stale_chart_lock_is_detected_offline(tmp_path):
    chart = copy_chart(tmp_path / "proyecto4")
    chart_yaml = chart / "Chart.yaml"
    chart_yaml.write_text(chart_yaml.read_text().replace("version: 14.0.3", "version: 14.0.2"))
    result = helm("dependency", "build", str(chart))

    assert result.returncode != 0
    assert "out of sync" in result.stdout + result.stderr


def test_chart_lock_script_agrees():
    result = subprocess.run(
        [sys.executable, str(ROOT / "ci" / "chart_lock.py"), "--check"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "Chart.lock is in sync"


def test_chart_lock_digest_is_computed_as_helm_does(tmp_path):
    """helm itself locks the in-repo (file://) dependencies offline; its digest must be ours."""
    spec = importlib.util.spec_from_file_location("chart_lock", ROOT / "ci" / "chart_lock.py")
    chart_lock = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(chart_lock)
    chart = copy_chart(tmp_path / "proyecto4")
    metadata = yaml.safe_load((chart / "Chart.yaml").read_text())
    metadata["dependencies"] = [
        d for d in metadata["dependencies"] if d["repository"].startswith("file://")
    ]
    (chart / "Chart.yaml").write_text(yaml.safe_dump(metadata, sort_keys=False))
    (chart / "Chart.lock").unlink()
    result = helm("dependency", "update", str(chart))
    helm_lock = yaml.safe_load((chart / "Chart.lock").read_text())

    assert result.returncode == 0, result.stderr
    assert helm_lock["digest"] == chart_lock.digest(
        metadata["dependencies"], helm_lock["dependencies"]
    )


def test_package_is_small_and_holds_only_the_chart(tmp_path, with_real_deps):
    result = helm("package", str(prepared_chart()), "--destination", str(tmp_path))
    package = tmp_path / "proyecto4-0.1.0.tgz"
    listing = subprocess.run(
        ["tar", "-tzf", str(package)], capture_output=True, text=True, check=True
    ).stdout

    assert result.returncode == 0, result.stderr
    assert package.stat().st_size / 1024 < MAX_PACKAGE_KIB["real" if with_real_deps else "stubs"]
    top_level = {line.split("/")[1] for line in listing.splitlines() if line.count("/") >= 1}
    assert top_level == {
        "Chart.yaml",
        "Chart.lock",
        "values.yaml",
        "values.schema.json",
        "values",
        "templates",
        "charts",
        "files",
    }


def test_notes_say_how_to_reach_each_ui(helm_major, tmp_path):
    if helm_major == 3:
        pytest.skip("helm 3's install --dry-run=client still asks a cluster for its version")
    chart = prepared_chart()
    result = helm(
        "install",
        "proyecto4",
        str(chart),
        "--namespace",
        "proyecto4",
        "--dry-run=client",
        "-f",
        str(chart / "values/dev.yaml"),
    )
    notes = result.stdout[result.stdout.index("NOTES:") :]

    assert result.returncode == 0, result.stderr
    for line in (
        "Inference API: http://<node-address>:30989/docs",
        "MLflow: http://<node-address>:32000/",
        "Streamlit UI: http://<node-address>:30501/",
        "Airflow: http://<node-address>:30080/",
        "Prometheus: http://<node-address>:30090/",
        "Grafana: http://<node-address>:30300/",
    ):
        assert line in notes
    assert re.search(r"get secret proyecto4-grafana-admin .*admin-password", notes)


def test_notes_port_forward_without_node_ports(helm_major):
    if helm_major == 3:
        pytest.skip("helm 3's install --dry-run=client still asks a cluster for its version")
    result = helm(
        "install",
        "proyecto4",
        str(prepared_chart()),
        "--namespace",
        "proyecto4",
        "--dry-run=client",
    )
    notes = result.stdout[result.stdout.index("NOTES:") :]

    assert "kubectl -n proyecto4 port-forward svc/proyecto4-mlflow 5000:5000" in notes
    assert "  inference-api: ghcr.io/proyecto4/proyecto4-inference-api:0.1.0" in notes
    assert "  airflow: ghcr.io/proyecto4/proyecto4-airflow:0.1.0" in notes
    assert "port-forward svc/proyecto4-grafana 3000:80" in notes
