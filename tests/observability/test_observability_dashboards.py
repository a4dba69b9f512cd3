"""Grafana dashboards: ConfigMaps the sidecar loads, the queries design.md asks for, and
only metrics the API emits (the live test proves each query returns data)."""

from __future__ import annotations

from pathlib import Path

import pytest
from promql_walk import API_GROUP, dashboard_queries, rule_queries, selectors
from proyecto4_common import names
from servers import REPO

DASHBOARD_FILES = sorted(p.name for p in (REPO / "files" / "dashboards").glob("*.json"))
DESIGN_QUERIES = [
    "rate(predict_requests_total[1m])",
    "sum(predict_requests_total)",
    "rate(predict_latency_seconds_sum[1m]) / rate(predict_latency_seconds_count[1m])",
]
_HISTOGRAM = names.PREDICT_LATENCY_SECONDS
API_METRICS = {
    names.PREDICT_REQUESTS_TOTAL,
    f"{_HISTOGRAM}_bucket",
    f"{_HISTOGRAM}_sum",
    f"{_HISTOGRAM}_count",
    names.PREDICTIONS_TOTAL,
    names.SERVED_MODEL_VERSION,
    names.MODEL_LOADED,
    names.INFERENCE_LOG_ROWS_WRITTEN,
    names.INFERENCE_LOG_ROWS_BUFFERED,
    names.INFERENCE_LOG_ROWS_DROPPED,
    names.INFERENCE_LOG_WAIT_SECONDS,
    names.FEATURE_DRIFT_PSI,
    names.MODEL_LIVE_AUROC,
    names.MODEL_LIVE_ACCURACY,
    names.MODEL_LIVE_LOG_LOSS,
    names.MODEL_LIVE_CALIBRATION_ERROR,
    names.MODEL_LIVE_LABELLED,
    names.MODEL_TEST_AUROC,
    names.MODEL_LIVE_AUROC_LOW,
    names.MODEL_LIVE_AUROC_HIGH,
    names.MODEL_BACKTEST_AUROC,
    names.MODEL_BACKTEST_AUROC_LOW,
    names.MODEL_ESTIMATED_AUROC,
    names.MODEL_RETRAINS,
}


def _all_dashboard_queries(dashboards):
    return [q for name, d in dashboards.items() for q in dashboard_queries(name, d)]


def test_one_sidecar_configmap_per_dashboard_file(monitoring):
    config_maps = monitoring["ConfigMap"]
    assert sorted(key for cm in config_maps for key in cm["data"]) == DASHBOARD_FILES
    for cm in config_maps:
        assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert cm["metadata"]["labels"]["release"] == "proyecto4"


def test_the_three_design_queries_are_on_a_dashboard_verbatim(dashboards):
    shipped = {q.expr for q in _all_dashboard_queries(dashboards)}
    for query in DESIGN_QUERIES:
        assert query in shipped


@pytest.mark.parametrize(
    "title",
    [
        "Latency percentiles",
        "Error ratio",
        "Requests by outcome",
        "Model version in service",
        "Predictions by class",
        "Drift per feature (PSI)",
    ],
)
def test_the_panels_the_issue_asks_for_exist(dashboards, title):
    titles = {
        q.where.split(": ", 1)[1].rsplit(" [", 1)[0] for q in _all_dashboard_queries(dashboards)
    }
    assert title in titles


def test_latency_percentiles_come_from_the_histogram(dashboards):
    exprs = {q.expr for q in _all_dashboard_queries(dashboards) if "Latency percentiles" in q.where}
    for quantile in ("0.5", "0.95", "0.99"):
        assert (
            f"histogram_quantile({quantile}, sum by (le) (rate({_HISTOGRAM}_bucket[1m])))" in exprs
        )


def test_dashboard_queries_use_only_metrics_the_api_emits(dashboards):
    used = {s.name for q in _all_dashboard_queries(dashboards) for s in selectors(q.expr)}
    assert used <= API_METRICS, used - API_METRICS


def test_rule_queries_use_only_api_metrics_and_up(prometheus_rule):
    queries = rule_queries(prometheus_rule)
    used = {s.name for q in queries if q.where.startswith(API_GROUP) for s in selectors(q.expr)}
    assert used <= API_METRICS | {"up"}, used - API_METRICS
    # The backups' alert reads kube-state-metrics' CronJob series only.
    backups = {
        s.name for q in queries if not q.where.startswith(API_GROUP) for s in selectors(q.expr)
    }
    assert backups and all(name.startswith("kube_cronjob_") for name in backups), backups


def test_every_panel_queries_the_datasource_variable(dashboards):
    for name, dashboard in dashboards.items():
        variables = {v["name"]: v for v in dashboard["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource"
        assert variables["datasource"]["query"] == "prometheus"
        panels = [p for p in dashboard["panels"] if p["type"] != "row"]
        assert panels, name
        for panel in panels:
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel[
                "title"
            ]


def test_dashboard_uids_and_panel_ids_are_unique(dashboards):
    uids = [d["uid"] for d in dashboards.values()]
    assert len(set(uids)) == len(uids)
    for dashboard in dashboards.values():
        ids = [p["id"] for p in dashboard["panels"]]
        assert len(set(ids)) == len(ids), dashboard["uid"]


@pytest.mark.parametrize(
    "values, kinds",
    [
        ({"monitoring": {"enabled": False}}, set()),
        (
            {"monitoring": {"dashboards": {"enabled": False}, "rules": {"enabled": False}}},
            {"ServiceMonitor"},
        ),
        ({"monitoring": {"serviceMonitor": {"enabled": False}}}, {"PrometheusRule", "ConfigMap"}),
        # Without the stack (and with no CRDs in the cluster) only the dashboards remain.
        ({"kube-prometheus-stack": {"enabled": False}}, {"ConfigMap"}),
    ],
)
def test_switches(chart, values, kinds):
    assert set(chart.monitoring(values)) == kinds


def test_dashboard_files_exist():
    assert Path(REPO / "files" / "dashboards").is_dir()
    assert DASHBOARD_FILES == ["inference-api.json", "model-drift.json", "model-quality.json"]


def test_live_auroc_its_interval_estimate_and_backtest_band_share_a_panel_per_version(
    dashboards,
):
    (panel,) = [p for p in dashboards["model-quality.json"]["panels"] if p.get("repeat")]
    variables = {v["name"]: v for v in dashboards["model-quality.json"]["templating"]["list"]}

    assert panel["repeat"] == "model_version"
    # A version newly in service has an estimate before any outcome: it gets its panel too.
    assert variables["model_version"]["definition"] == (
        f'label_values({{__name__=~"{names.MODEL_LIVE_AUROC}|{names.MODEL_ESTIMATED_AUROC}"}}, '
        "model_version)"
    )
    exprs = [t["expr"] for t in panel["targets"]]
    assert exprs == [
        f'max by (model_version) ({name}{{model_version=~"$model_version"}})'
        for name in (
            names.MODEL_LIVE_AUROC,
            names.MODEL_LIVE_AUROC_LOW,
            names.MODEL_LIVE_AUROC_HIGH,
            names.MODEL_ESTIMATED_AUROC,
            names.MODEL_BACKTEST_AUROC,
            names.MODEL_BACKTEST_AUROC_LOW,
        )
    ]
    # The interval is drawn as a band between its two ends.
    (fill,) = [
        p["value"]
        for o in panel["fieldConfig"]["overrides"]
        for p in o["properties"]
        if p["id"] == "custom.fillBelowTo"
    ]
    legends = {t["refId"]: t["legendFormat"] for t in panel["targets"]}
    assert fill == legends["C"]
