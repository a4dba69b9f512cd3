"""values.schema.json: each bad value is rejected by `helm template` with a clear message.

Helm 3 and Helm 4 word JSON-schema errors differently; each row gives the field and the
fragment each major version prints.
"""

from __future__ import annotations

import pytest
from chart.chart_render import LAYERS, RenderError, render_chart

# (bad values, field as Helm 3 names it, Helm 3 fragment, Helm 4 fragment)
BAD_VALUES = [
    (
        {"pipeline": {"retrain": {"policy": "sometimes"}}},
        "pipeline.retrain.policy",
        "must be one of the following",
        "value must be one of",
    ),
    (
        {"pipeline": {"retrain": {"driftDays": 0}}},
        "pipeline.retrain.driftDays",
        "Must be greater than or equal to 1",
        "minimum: got 0, want 1",
    ),
    # The decay threshold is the version's backtest band now, not a margin in values.
    (
        {"pipeline": {"retrain": {"aurocMargin": 0.05}}},
        "pipeline.retrain",
        "Additional property aurocMargin is not allowed",
        "additional properties 'aurocMargin' not allowed",
    ),
    (
        {"monitoring": {"rules": {"alerts": {"modelQualityDecayed": {"aurocMargin": 0.05}}}}},
        "monitoring.rules.alerts.modelQualityDecayed",
        "Additional property aurocMargin is not allowed",
        "additional properties 'aurocMargin' not allowed",
    ),
    (
        {"pipeline": {"retrain": {"qualityBandK": -1}}},
        "pipeline.retrain.qualityBandK",
        "Must be greater than or equal to 0",
        "minimum: got -1, want 0",
    ),
    (
        {"pipeline": {"retrain": {"driftBandK": "3"}}},
        "pipeline.retrain.driftBandK",
        "Invalid type. Expected: number, given: string",
        "got string, want number",
    ),
    (
        {"pipeline": {"retrain": {"driftTrigger": "no"}}},
        "pipeline.retrain.driftTrigger",
        "Invalid type. Expected: boolean, given: string",
        "got string, want boolean",
    ),
    (
        {"pipeline": {"split": {"mode": "stratified"}}},
        "pipeline.split.mode",
        'must be one of the following: "forward", "random"',
        "value must be one of 'forward', 'random'",
    ),
    (
        {"pipeline": {"split": {"testDays": 0}}},
        "pipeline.split.testDays",
        "Must be greater than or equal to 1",
        "minimum: got 0, want 1",
    ),
    (
        {"pipeline": {"split": {"validationDays": 7.5}}},
        "pipeline.split.validationDays",
        "Invalid type. Expected: integer, given: number",
        "got number, want integer",
    ),
    (
        {"pipeline": {"backtest": {"folds": -1}}},
        "pipeline.backtest.folds",
        "Must be greater than or equal to 0",
        "minimum: got -1, want 0",
    ),
    (
        {"pipeline": {"backtest": {"foldDays": 0}}},
        "pipeline.backtest.foldDays",
        "Must be greater than or equal to 1",
        "minimum: got 0, want 1",
    ),
    (
        {"pipeline": {"promotion": {"minDifference": 1.5}}},
        "pipeline.promotion.minDifference",
        "Must be less than or equal to 1",
        "maximum: got 1.5, want 1",
    ),
    (
        {"pipeline": {"promotion": {"bootstrapResamples": 50}}},
        "pipeline.promotion.bootstrapResamples",
        "Must be greater than or equal to 100",
        "minimum: got 50, want 100",
    ),
    (
        {
            "monitoring": {
                "rules": {"alerts": {"modelQualityDecayed": {"minLabelledPredictions": 0}}}
            }
        },
        "monitoring.rules.alerts.modelQualityDecayed.minLabelledPredictions",
        "Must be greater than or equal to 1",
        "minimum: got 0, want 1",
    ),
    (
        {"backup": {"retentionDays": 0}},
        "backup.retentionDays",
        "Must be greater than or equal to 1",
        "minimum: got 0, want 1",
    ),
    (
        {"backup": {"schedule": "daily"}},
        "backup.schedule",
        "Does not match pattern",
        "'daily' does not match pattern",
    ),
    (
        {"inference-api": {"replicaCount": "two"}},
        "inference-api.replicaCount",
        "Invalid type. Expected: integer, given: string",
        "got string, want integer",
    ),
    (
        {"inferenceApi": {"enabled": True}},
        "(root)",
        "Additional property inferenceApi is not allowed",
        "additional properties 'inferenceApi' not allowed",
    ),
    (
        {"locust": {"mode": "swarm"}},
        "locust.mode",
        'must be one of the following: "distributed", "headless"',
        "value must be one of 'distributed', 'headless'",
    ),
    (
        {"airflow": {"executor": "CeleryExecutor"}},
        "airflow.executor",
        'must be one of the following: "KubernetesExecutor"',
        "value must be 'KubernetesExecutor'",
    ),
    (
        {"streamlit": {"env": {"DEBUG": True}}},
        "streamlit.env.DEBUG",
        "Invalid type. Expected: string, given: boolean",
        "got boolean, want string",
    ),
    (
        {"mlflow": {"service": {"type": "Ingress"}}},
        "mlflow.service.type",
        "must be one of the following",
        "value must be one of 'ClusterIP', 'NodePort', 'LoadBalancer'",
    ),
    (
        {"inference-api": {"resources": {"limits": {"cpu": "lots"}}}},
        "inference-api.resources.limits.cpu",
        "Does not match pattern",
        "'lots' does not match pattern",
    ),
    (
        {"global": {"platform": {"dataDatabase": {"secretName": "Data_DB"}}}},
        "global.platform.dataDatabase.secretName",
        "Does not match pattern",
        "'Data_DB' does not match pattern",
    ),
    (
        {"data-source": {"service": {"port": 70000}}},
        "data-source.service.port",
        "Must be less than or equal to 65535",
        "maximum: got 70,000, want 65,535",
    ),
    (
        {"global": {"proyecto4": {"imageRegistry": "https://registry.example.com"}}},
        "global.proyecto4.imageRegistry",
        "Does not match pattern",
        "does not match pattern",
    ),
    (
        {"postgresql": {"enabled": "yes"}},
        "postgresql.enabled",
        "Invalid type. Expected: boolean, given: string",
        "got string, want boolean",
    ),
    (
        {"inference-api": {"autoscaling": {"targetCPUUtilizationPercentage": 150}}},
        "inference-api.autoscaling.targetCPUUtilizationPercentage",
        "Must be less than or equal to 100",
        "maximum: got 150, want 100",
    ),
    (
        {"locust": {"headless": {"runTime": "two minutes"}}},
        "locust.headless.runTime",
        "Does not match pattern",
        "'two minutes' does not match pattern",
    ),
    (
        {"mlflow": {"migration": {"enabled": True, "retries": 3}}},
        "mlflow.migration",
        "Additional property retries is not allowed",
        "additional properties 'retries' not allowed",
    ),
    (
        # A YAML boolean would turn Airflow's remote logging on without its connection and keys.
        {"airflow": {"config": {"logging": {"remote_logging": True}}}},
        "airflow.config.logging.remote_logging",
        "Invalid type. Expected: string, given: boolean",
        "got boolean, want string",
    ),
    (
        {"airflow": {"config": {"logging": {"remote_base_log_folder": "gs://logs/airflow"}}}},
        "airflow.config.logging.remote_base_log_folder",
        "Does not match pattern",
        "'gs://logs/airflow' does not match pattern",
    ),
    (
        {"airflow": {"config": {"logging": {"remote_log_conn_id": "object-store"}}}},
        "airflow.config.logging.remote_log_conn_id",
        "Does not match pattern",
        "'object-store' does not match pattern",
    ),
    (
        {"pipeline": {"daysPerRun": 0}},
        "pipeline.daysPerRun",
        "Must be greater than or equal to 1",
        "minimum: got 0, want 1",
    ),
    (
        {"pipeline": {"schedule": "daily"}},
        "pipeline.schedule",
        "Does not match pattern",
        "'daily' does not match pattern",
    ),
    (
        {"pipeline": {"runAtInstall": "yes"}},
        "pipeline.runAtInstall",
        "Invalid type. Expected: boolean, given: string",
        "got string, want boolean",
    ),
]


@pytest.mark.parametrize(
    ("values", "field", "helm3_message", "helm4_message"),
    BAD_VALUES,
    ids=[row[1] for row in BAD_VALUES],
)
def test_bad_value_is_rejected_with_a_clear_message(
    values, field, helm3_message, helm4_message, helm_major
):
    with pytest.raises(RenderError) as error:
        render_chart(values=values)
    message = str(error.value)

    assert "values don't meet the specifications of the schema" in message
    if helm_major == 3:
        assert f"- {field}: " in message and helm3_message in message, message
    else:
        location = "" if field == "(root)" else "/" + field.replace(".", "/")
        assert f"at '{location}'" in message and helm4_message in message, message


@pytest.mark.parametrize("layer", list(LAYERS.values()), ids=list(LAYERS))
def test_shipped_layers_pass_the_schema(layer):
    assert render_chart(value_files=layer)
