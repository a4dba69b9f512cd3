"""The PrometheusRule: promtool accepts it, every alert is unit-tested (fires and stays
quiet), and thresholds and `for` durations come from values."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from promql_walk import rule_queries, selectors, split_threshold
from proyecto4_common import names

UNIT_TESTS = Path(__file__).with_name("alerts-test.yaml")


def _alerts(prometheus_rule: dict) -> dict[str, dict]:
    return {
        rule["alert"]: rule
        for group in prometheus_rule["spec"]["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }


def test_promtool_check_rules_accepts_the_rendered_rules(rules_file, promtool):
    out = subprocess.run(
        [promtool, "check", "rules", str(rules_file)], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS: 8 rules found" in out.stdout


def test_promtool_unit_tests_of_every_alert_pass(rules_file, promtool):
    shutil.copy(UNIT_TESTS, rules_file.parent / UNIT_TESTS.name)
    out = subprocess.run(
        [promtool, "test", "rules", UNIT_TESTS.name],
        cwd=rules_file.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout


def test_every_alert_has_a_firing_and_a_quiet_unit_test(prometheus_rule):
    cases = [
        case
        for test in yaml.safe_load(UNIT_TESTS.read_text())["tests"]
        for case in test["alert_rule_test"]
    ]
    fires = {case["alertname"] for case in cases if case["exp_alerts"]}
    quiet = {case["alertname"] for case in cases if not case["exp_alerts"]}
    alerts = set(_alerts(prometheus_rule))
    assert alerts == {
        "InferenceApiDown",
        "InferenceApiNoModelLoaded",
        "InferenceApiErrorRatioHigh",
        "InferenceApiLatencyP95High",
        "InferenceLogRowsDropped",
        "FeatureDriftHigh",
        "ModelQualityDecayed",
        "BackupTooOld",
    }
    assert fires == alerts
    assert quiet == alerts


def test_every_alert_compares_a_signal_with_a_number(prometheus_rule):
    for query in rule_queries(prometheus_rule):
        signal, op, _ = split_threshold(query.expr)
        assert signal and op in {">", "=="}, query


# Alert -> (values, expected threshold, expected `for`); rendered all at once.
THRESHOLD_CASES = {
    "InferenceApiErrorRatioHigh": ({"errorRatio": {"threshold": 0.2, "for": "10m"}}, 0.2, "10m"),
    "InferenceApiLatencyP95High": (
        {"latencyP95": {"thresholdSeconds": 1.5, "for": "1m"}},
        1.5,
        "1m",
    ),
    "InferenceLogRowsDropped": ({"logRowsDropped": {"threshold": 100, "for": "2m"}}, 100, "2m"),
    "FeatureDriftHigh": ({"featureDrift": {"threshold": 0.1, "for": "1h"}}, 0.1, "1h"),
    "InferenceApiDown": ({"apiDown": {"for": "3m"}}, 0, "3m"),
    "InferenceApiNoModelLoaded": ({"noModelLoaded": {"for": "10m"}}, 0, "10m"),
    # No threshold in values: the band's lower edge is a series (model_backtest_auroc_low).
    "ModelQualityDecayed": (
        {"modelQualityDecayed": {"minLabelledPredictions": 50, "for": "2h"}},
        0,
        "2h",
    ),
    # Hours in values, seconds in the expression.
    "BackupTooOld": ({"backupTooOld": {"maxAgeHours": 48, "for": "30m"}}, 48 * 3600, "30m"),
}


@pytest.fixture(scope="module")
def custom_rule(chart) -> dict:
    alerts = {k: v for values, _, _ in THRESHOLD_CASES.values() for k, v in values.items()}
    values = {"monitoring": {"rules": {"alerts": alerts, "rateWindow": "10m"}}}
    (rule,) = chart.monitoring(values)["PrometheusRule"]
    return rule


@pytest.mark.parametrize("name", THRESHOLD_CASES)
def test_thresholds_and_durations_are_values(custom_rule, name):
    _, threshold, duration = THRESHOLD_CASES[name]
    alert = _alerts(custom_rule)[name]
    assert split_threshold(alert["expr"])[2] == threshold
    assert alert["for"] == duration


def test_rate_window_is_a_value(custom_rule):
    assert "[10m]" in _alerts(custom_rule)["InferenceApiErrorRatioHigh"]["expr"]
    assert "[5m]" not in _alerts(custom_rule)["InferenceApiLatencyP95High"]["expr"]


def test_backup_alert_follows_the_backup_switch(chart):
    (rule,) = chart.monitoring({"backup": {"enabled": False}})["PrometheusRule"]
    assert "BackupTooOld" not in _alerts(rule)


def test_model_quality_alert_needs_the_labelled_predictions_of_the_values(custom_rule):
    assert ">= 50)" in _alerts(custom_rule)["ModelQualityDecayed"]["expr"]


def test_model_quality_decays_below_the_backtest_band_not_the_test_auroc(prometheus_rule):
    used = {s.name for s in selectors(_alerts(prometheus_rule)["ModelQualityDecayed"]["expr"])}

    assert used == {
        names.MODEL_BACKTEST_AUROC_LOW,
        names.MODEL_LIVE_AUROC_HIGH,
        names.MODEL_LIVE_LABELLED,
    }
