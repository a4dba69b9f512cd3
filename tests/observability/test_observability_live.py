"""A real Prometheus scrapes a real inference API exactly as the chart's ServiceMonitor
says, with the chart's rules loaded: every PromQL expression we ship must return data,
and a shifted input distribution must raise feature_drift_psi until FeatureDriftHigh is
pending.

How alert expressions are checked: each alert is `signal <comparison> number`
(promql_walk.split_threshold takes it apart with a real PromQL parser); the signal, the
expression without its threshold comparison, must return data, and so must every vector
selector in it. Dashboard queries are evaluated whole, their selectors too.
"""

from __future__ import annotations

import math
import random

import httpx
import pytest
import yaml
from loadtest.payloads import RecordGenerator
from prometheus_server import prometheus, scrape_config
from promql_walk import API_GROUP, dashboard_queries, rule_queries, selectors, split_threshold
from proyecto4.devkit import log_drained
from proyecto4_common import names
from proyecto4_common.feature_spec import CategoricalFeature, FeatureSpec, NumericFeature
from servers import uvicorn_app

# The API computes PSI over its last DRIFT_WINDOW records; with 2000 records, sampling
# noise stays far below the alert threshold even for features with ~100 categories.
DRIFT_WINDOW = 2000
# The estimated AUROC (CBPE) needs this many served probabilities: the list requests alone
# bring DRIFT_WINDOW, so the estimate's queries have data once the traffic is scraped.
ESTIMATION_MIN_ROWS = DRIFT_WINDOW
BATCH = 500
# Enough one-record requests that the few slow list requests stay out of the p95 (a
# healthy API must raise no latency alert on a loaded machine).
SINGLE_REQUESTS = 100
INVALID_REQUESTS = 5


@pytest.fixture(scope="module")
def api_url(trained_model, tmp_path_factory):
    env = {
        "PROYECTO4_HOME": str(tmp_path_factory.mktemp("api-home")),
        "MLFLOW_TRACKING_URI": trained_model.tracking_uri,
        "DATA_DB_URL": trained_model.data_db_url,
        "INFERENCE_API_WATCH_INTERVAL_S": "0",
        "INFERENCE_API_DRIFT_WINDOW": str(DRIFT_WINDOW),
        "INFERENCE_API_DRIFT_MIN_ROWS": str(DRIFT_WINDOW),
        "INFERENCE_API_ESTIMATION_MIN_ROWS": str(ESTIMATION_MIN_ROWS),
        "INFERENCE_API_QUALITY_REFRESH_S": "1",
    }
    with uvicorn_app("inference_api.app:create_app", env, health="/ready") as url:
        yield url


@pytest.fixture(scope="module")
def prom(api_url, service_monitor, prometheus_rule, prometheus_bin, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("prometheus")
    rule_file = workdir / "rules.yaml"
    rule_file.write_text(yaml.safe_dump({"groups": prometheus_rule["spec"]["groups"]}))
    scrape = scrape_config(service_monitor, api_url.removeprefix("http://"))
    with prometheus(prometheus_bin, workdir, scrape, rule_file) as server:
        yield server


@pytest.fixture(scope="module")
def records(trained_model) -> RecordGenerator:
    return RecordGenerator(trained_model.spec, rng=random.Random(6))


def _post_all(api_url: str, bodies: list, expected: set[int]) -> None:
    with httpx.Client(base_url=api_url, timeout=60) as api:
        for body in bodies:
            response = api.post("/predict/", json=body)
            assert response.status_code in expected, response.text


@pytest.fixture(scope="module")
def traffic(prom, api_url, records, trained_model):
    """Requests of every outcome but `error` (a healthy API has none; its series exists at
    0): single records, lists filling the drift window (and enough probabilities for the
    estimated AUROC), invalid bodies, one real day with its live quality; then waits until
    Prometheus has scraped all of it (two scrapes, so rates exist)."""
    _post_all(api_url, [records.record() for _ in range(SINGLE_REQUESTS)], {200})
    _post_all(api_url, [records.records(BATCH) for _ in range(DRIFT_WINDOW // BATCH)], {200})
    _post_all(api_url, [records.invalid() for _ in range(INVALID_REQUESTS)], {400, 413, 415, 422})
    _serve_a_day_and_measure_its_quality(api_url, trained_model)
    seen = prom.wait_for(
        f'predict_requests_total{{outcome="invalid"}} >= {INVALID_REQUESTS} '
        'and count_over_time(predict_requests_total{outcome="invalid"}[30s]) > 1 '
        "and on() count_over_time(model_live_auroc[30s]) > 1 "
        f"and on() count_over_time({names.MODEL_ESTIMATED_AUROC}[30s]) > 1 "
        f"and on() count_over_time({names.MODEL_BACKTEST_AUROC_LOW}[30s]) > 1"
    )
    assert seen, "Prometheus never scraped the traffic"
    return prom


def _serve_a_day_and_measure_its_quality(api_url: str, trained_model) -> None:
    """The real flights of one ingested day, with their keys, then the pipeline's live
    quality step over them: the API's model_live_* gauges come from model_quality."""
    import pandas as pd
    from pipeline.quality import measure_live_quality
    from pipeline.replay import keyed_records
    from pipeline.settings import PipelineSettings
    from sqlalchemy import create_engine, text

    engine = create_engine(trained_model.data_db_url)
    with engine.connect() as conn:
        raw = pd.read_sql(text("SELECT * FROM raw_data WHERE source_date = '2013-01-10'"), conn)
    engine.dispose()
    day = keyed_records(raw)
    _post_all(api_url, [day[i : i + BATCH] for i in range(0, len(day), BATCH)], {200})
    log_drained(api_url, timeout_s=60)
    settings = PipelineSettings(
        data_db_url=trained_model.data_db_url, mlflow_tracking_uri=trained_model.tracking_uri
    )
    assert measure_live_quality(settings)["days"] == ["2013-01-10"]
    _fill_the_pipelines_newer_quality_columns(trained_model.data_db_url)


def _fill_the_pipelines_newer_quality_columns(db_url: str) -> None:
    """The live interval and the backtest band, where the pipeline left them empty (values
    the pipeline records stay): the interval from the day's counts as the pipeline computes
    it; the band stands in for a backtest, its lower edge at the interval's lower end, so a
    healthy model stays inside it and ModelQualityDecayed has data and stays quiet."""
    import sqlalchemy as sa
    from proyecto4_common.estimation import auroc_interval
    from proyecto4_common.tables import model_quality as mq

    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        rows = conn.execute(sa.select(mq).where(mq.c.auroc.is_not(None))).mappings().all()
        assert rows, "measure_live_quality recorded no AUROC"
        for row in rows:
            low, high = auroc_interval(row["auroc"], row["delayed"], row["count"] - row["delayed"])
            conn.execute(
                mq.update()
                .where(mq.c.day == row["day"], mq.c.model_version == row["model_version"])
                .values(
                    auroc_low=sa.func.coalesce(mq.c.auroc_low, low),
                    auroc_high=sa.func.coalesce(mq.c.auroc_high, high),
                    backtest_auroc=sa.func.coalesce(mq.c.backtest_auroc, row["auroc"]),
                    backtest_auroc_low=sa.func.coalesce(mq.c.backtest_auroc_low, low),
                )
            )
    engine.dispose()


def _has_data(prom, expr: str) -> bool:
    result = prom.query(expr)
    return bool(result) and all(not math.isnan(float(s["value"][1])) for s in result)


def test_prometheus_scrapes_the_api_every_5s_on_metrics(prom, service_monitor):
    job = service_monitor["spec"]["endpoints"][0]["relabelings"][0]["replacement"]
    assert prom.wait_for(f'up{{job="{job}"}} == 1')
    (target,) = prom.http.get("/api/v1/targets").json()["data"]["activeTargets"]
    assert target["labels"]["job"] == job == "proyecto4-inference-api"
    assert target["scrapeUrl"].endswith("/metrics")
    assert target["scrapeInterval"] == "5s"


def test_every_dashboard_query_returns_data(traffic, dashboards):
    queries = [q for name, d in dashboards.items() for q in dashboard_queries(name, d)]
    assert len(queries) >= 20
    empty = [
        f"{q.where}: {expr}"
        for q in queries
        for expr in [q.expr, *(str(s) for s in selectors(q.expr))]
        if not _has_data(traffic, expr)
    ]
    assert empty == []


def test_every_alert_signal_returns_data(traffic, prometheus_rule):
    # The API's alerts; the backup group's series come from kube-state-metrics, which this
    # test does not run (its promtool unit tests cover it).
    alerts = [q for q in rule_queries(prometheus_rule) if q.alert and q.where.startswith(API_GROUP)]
    assert len(alerts) == 7
    empty = []
    for query in alerts:
        signal, _, _ = split_threshold(query.expr)
        for expr in [signal, *(str(s) for s in selectors(signal))]:
            if not _has_data(traffic, expr):
                empty.append(f"{query.where}: {expr}")
    assert empty == []


def test_the_estimated_auroc_of_the_served_version_reaches_prometheus(traffic, trained_model):
    estimates = traffic.values(names.MODEL_ESTIMATED_AUROC, "model_version")

    assert set(estimates) == {trained_model.version}
    # A model that ranks delays at all, estimated from probabilities it actually served.
    assert 0.5 < estimates[trained_model.version] < 1.0


def test_prometheus_evaluates_every_rule_without_error_and_a_healthy_api_raises_no_alert(
    traffic, prometheus_rule
):
    rules = traffic.evaluated_rules()
    assert len(rules) == len(rule_queries(prometheus_rule))
    assert [(r["name"], r["health"], r.get("lastError", "")) for r in rules] == [
        (r["name"], "ok", "") for r in rules
    ]
    raised = {(r["name"], r["state"]) for r in rules if r["name"] != "FeatureDriftHigh"}
    assert {state for _, state in raised} == {"inactive"}, raised


def _shifted_features(spec: FeatureSpec) -> dict[str, object]:
    """One numeric and one categorical feature, each pinned to a value that is rare in
    training: the top bin of the numeric, the least frequent category."""
    numeric = next(
        f
        for f in spec.features
        if isinstance(f, NumericFeature)
        # The traffic is one real day (2013-01-10): its calendar features already drift.
        and f.name not in ("month", "day_of_month", "day_of_week")
        and f.reference
        and f.reference.edges
        and f.reference.fractions[-1] < 0.3
    )
    categorical = next(
        f
        for f in spec.features
        if isinstance(f, CategoricalFeature) and f.reference and len(f.categories) > 1
    )
    rare = min(
        (fraction, category)
        for fraction, category in zip(
            categorical.reference.fractions, categorical.categories, strict=False
        )
        if fraction > 0
    )[1]
    top = math.floor(numeric.max) if numeric.kind == "integer" else numeric.max
    return {numeric.name: top, categorical.name: rare}


def test_shifted_inputs_raise_feature_drift_until_the_alert_is_pending(
    traffic, api_url, records, trained_model, prometheus_rule
):
    shifted = _shifted_features(trained_model.spec)
    psi = f'max by (feature) (feature_drift_psi{{feature=~"{"|".join(shifted)}"}})'
    before = traffic.values(psi, "feature")
    assert set(before) == set(shifted)

    bodies = [
        [{**r, **shifted} for r in records.records(BATCH)] for _ in range(DRIFT_WINDOW // BATCH)
    ]
    _post_all(api_url, bodies, {200})

    (drift_alert,) = [
        q for q in rule_queries(prometheus_rule) if q.where.endswith("FeatureDriftHigh")
    ]
    threshold = split_threshold(drift_alert.expr)[2]
    assert all(value < threshold for value in before.values()), before
    traffic.wait_for(f"{psi} > {threshold}")
    after = traffic.values(psi, "feature")
    assert set(after) == set(shifted)
    assert all(after[f] > threshold and after[f] > 2 * before[f] for f in shifted), (before, after)

    # Other features of the one-day traffic may be pending too: wait for the shifted ones.
    features = "|".join(shifted)
    traffic.wait_for(
        f'count(ALERTS{{alertname="FeatureDriftHigh", alertstate="pending", feature=~"{features}"}}) == {len(shifted)}'
    )
    pending = traffic.values(
        f'ALERTS{{alertname="FeatureDriftHigh", alertstate="pending", feature=~"{features}"}}',
        "feature",
    )
    assert set(shifted) == set(pending)
