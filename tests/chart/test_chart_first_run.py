"""The installed platform runs itself: the pipeline's settings reach Airflow through the
umbrella's ConfigMap, and a hook Job triggers the DAG's first run at install."""

from __future__ import annotations

import re
import shlex

import pytest
import yaml
from chart.chart_render import (
    LAYERS,
    ROOT,
    find,
    is_ours,
    real_deps_dir,
    render_chart,
    render_with_sources,
)

FIRST_RUN = ("templates/job-first-run.yaml", "templates/networkpolicy-first-run.yaml")
CONFIG = "templates/configmap-pipeline.yaml"


def first_run_objects(values: dict | None = None, files: tuple = ()) -> list[tuple[str, str]]:
    return sorted(
        (o["kind"], o["metadata"]["name"])
        for s, o in render_with_sources(values=values, value_files=files)
        if s.startswith(
            ("proyecto4/templates/job-first-run", "proyecto4/templates/networkpolicy-first-run")
        )
    )


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (None, [("Job", "proyecto4-first-run"), ("NetworkPolicy", "proyecto4-first-run")]),
        ({"pipeline": {"runAtInstall": False}}, []),
        ({"airflow": {"enabled": False}}, []),
    ],
    ids=["on-by-default", "switched-off", "no-airflow"],
)
def test_the_first_run_job_follows_run_at_install(values, expected):
    assert first_run_objects(values) == expected


@pytest.mark.parametrize("layer_name", sorted(LAYERS))
def test_the_first_run_job_is_a_helm_and_argocd_hook_that_triggers_the_dag(layer_name):
    objects = render_chart(value_files=LAYERS[layer_name])
    job = find(objects, "Job", "proyecto4-first-run")
    values = yaml.safe_load((ROOT / "values.yaml").read_text())
    image = dict(values["airflow"]["images"]["airflow"])
    for layer_file in LAYERS[layer_name]:  # the layer's own Airflow image, if it names one
        layer = yaml.safe_load((ROOT / layer_file).read_text())
        image.update(layer.get("airflow", {}).get("images", {}).get("airflow", {}))
    [container] = job["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}

    assert {k: v for k, v in job["metadata"]["annotations"].items() if "hook" in k} == {
        "helm.sh/hook": "post-install",
        "helm.sh/hook-weight": "10",
        "helm.sh/hook-delete-policy": "before-hook-creation",
        "argocd.argoproj.io/hook": "PostSync",
        "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
    }
    assert container["image"] == f"{image['repository']}:{image['tag']}"
    assert container["command"] == ["python", "-m", "pipeline.first_run"]
    assert env["AIRFLOW_API_URL"] == "http://proyecto4-api-server:8080"
    assert env["AIRFLOW_ADMIN_USER"] == values["global"]["platform"]["airflowAdmin"]["username"]
    assert env["AIRFLOW_ADMIN_PASSWORD"] == {
        "secretKeyRef": {"name": "proyecto4-airflow-admin", "key": "password"}
    }
    assert env["FIRST_RUN_WAIT_S"] == str(values["pipeline"]["firstRun"]["waitSeconds"])
    assert job["spec"]["activeDeadlineSeconds"] > values["pipeline"]["firstRun"]["waitSeconds"]


def test_the_admin_user_the_job_logs_in_with_is_the_one_airflow_creates():
    values = yaml.safe_load((ROOT / "values.yaml").read_text())
    created = shlex.split(values["airflow"]["createUserJob"]["args"][-1])

    # One value: the create-user Job's arguments template the same username.
    assert created[created.index("-u") + 1] == "{{ .Values.global.platform.airflowAdmin.username }}"


def test_the_job_may_reach_only_dns_and_airflows_api_server():
    policy = find(render_chart(show_only=FIRST_RUN[1]), "NetworkPolicy", "proyecto4-first-run")

    assert (
        policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "first-run"
    )
    assert "ingress" not in policy["spec"]
    assert policy["spec"]["egress"][1] == {
        "to": [
            {
                "podSelector": {
                    "matchLabels": {
                        "tier": "airflow",
                        "component": "api-server",
                        "release": "proyecto4",
                    }
                }
            }
        ],
        "ports": [{"port": 8080, "protocol": "TCP"}],
    }


# The pipeline's settings as values.yaml sets them: pipeline/settings.py's defaults.
SETTINGS_DEFAULTS = {
    "PIPELINE_SCHEDULE": "@daily",
    "PIPELINE_DAYS_PER_RUN": "7",
    "PIPELINE_SPLIT": "forward",
    "PIPELINE_TEST_DAYS": "14",
    "PIPELINE_VALIDATION_DAYS": "14",
    "PIPELINE_BACKTEST_FOLDS": "4",
    "PIPELINE_BACKTEST_FOLD_DAYS": "7",
    "PIPELINE_PROMOTION_MIN_DIFFERENCE": "0",
    "PIPELINE_PROMOTION_BOOTSTRAP_RESAMPLES": "1000",
    "PIPELINE_RETRAIN_POLICY": "always",
    "PIPELINE_QUALITY_WINDOW_DAYS": "7",
    "PIPELINE_QUALITY_MIN_COUNT": "1000",
    "PIPELINE_QUALITY_BAND_K": "3",
    "PIPELINE_DRIFT_TRIGGER": "true",
    "PIPELINE_DRIFT_BAND_K": "3",
    "PIPELINE_DRIFT_DAYS": "7",
    "PIPELINE_DRIFT_WINDOW_DAYS": "7",
    "PIPELINE_RETRAIN_COOLDOWN_DAYS": "7",
    "PIPELINE_TUNING_WORKERS": "1",
}


@pytest.mark.parametrize(
    ("pipeline", "expected"),
    [
        ({}, SETTINGS_DEFAULTS),
        (
            {"schedule": "0 3 * * *", "daysPerRun": 1},
            {**SETTINGS_DEFAULTS, "PIPELINE_SCHEDULE": "0 3 * * *", "PIPELINE_DAYS_PER_RUN": "1"},
        ),
        ({"schedule": ""}, {**SETTINGS_DEFAULTS, "PIPELINE_SCHEDULE": ""}),
        (
            {
                "retrain": {
                    "policy": "on_decay",
                    "windowDays": 14,
                    "minLabelledPredictions": 2000,
                    "qualityBandK": 2.5,
                    "driftTrigger": False,
                    "driftBandK": 0,
                    "driftDays": 3,
                    "driftWindowDays": 14,
                    "cooldownDays": 0,
                }
            },
            {
                **SETTINGS_DEFAULTS,
                "PIPELINE_RETRAIN_POLICY": "on_decay",
                "PIPELINE_QUALITY_WINDOW_DAYS": "14",
                "PIPELINE_QUALITY_MIN_COUNT": "2000",
                "PIPELINE_QUALITY_BAND_K": "2.5",
                "PIPELINE_DRIFT_TRIGGER": "false",
                "PIPELINE_DRIFT_BAND_K": "0",
                "PIPELINE_DRIFT_DAYS": "3",
                "PIPELINE_DRIFT_WINDOW_DAYS": "14",
                "PIPELINE_RETRAIN_COOLDOWN_DAYS": "0",
            },
        ),
        (
            {
                "split": {"mode": "random", "testDays": 7, "validationDays": 21},
                "backtest": {"folds": 0, "foldDays": 14},
                "promotion": {"minDifference": -0.005, "bootstrapResamples": 200},
                "tuning": {"workers": 3},
            },
            {
                **SETTINGS_DEFAULTS,
                "PIPELINE_SPLIT": "random",
                "PIPELINE_TEST_DAYS": "7",
                "PIPELINE_VALIDATION_DAYS": "21",
                "PIPELINE_BACKTEST_FOLDS": "0",
                "PIPELINE_BACKTEST_FOLD_DAYS": "14",
                "PIPELINE_PROMOTION_MIN_DIFFERENCE": "-0.005",
                "PIPELINE_PROMOTION_BOOTSTRAP_RESAMPLES": "200",
                "PIPELINE_TUNING_WORKERS": "3",
            },
        ),
        (
            # Helm reads numbers as floats: without int64 these would render as "1e+06".
            {
                "promotion": {"bootstrapResamples": 1_000_000},
                "retrain": {"minLabelledPredictions": 2_000_000},
            },
            {
                **SETTINGS_DEFAULTS,
                "PIPELINE_PROMOTION_BOOTSTRAP_RESAMPLES": "1000000",
                "PIPELINE_QUALITY_MIN_COUNT": "2000000",
            },
        ),
    ],
    ids=[
        "defaults",
        "nightly-one-day",
        "triggered-only",
        "retrain-on-decay",
        "split-backtest-promotion-workers",
        "large-integers",
    ],
)
def test_pipeline_values_become_the_settings_airflow_reads(pipeline, expected):
    [config] = render_chart(values={"pipeline": pipeline} if pipeline else None, show_only=CONFIG)

    assert config["metadata"]["name"] == "proyecto4-pipeline"
    assert config["data"] == expected


def pipeline_fields() -> dict[str, str]:
    """Each environment variable PipelineSettings reads, and its field."""
    from pipeline.settings import PipelineSettings

    return {
        (field.validation_alias or name).upper(): name
        for name, field in PipelineSettings.model_fields.items()
    }


def read_by_the_pipeline(data: dict[str, str], monkeypatch) -> dict:
    """The fields PipelineSettings reads from the ConfigMap's variables."""
    from pipeline.settings import PipelineSettings

    fields = pipeline_fields()
    for variable in fields:
        monkeypatch.delenv(variable, raising=False)
    for variable, value in data.items():
        monkeypatch.setenv(variable, value)
    settings = PipelineSettings()
    return {variable: getattr(settings, fields[variable]) for variable in data}


def test_the_default_values_are_the_pipelines_defaults(monkeypatch):
    """Every variable the ConfigMap sets is a setting, and values.yaml keeps its default."""
    from pipeline.settings import PipelineSettings

    [config] = render_chart(show_only=CONFIG)
    fields = pipeline_fields()

    assert sorted(set(config["data"]) - set(fields)) == []
    assert read_by_the_pipeline(config["data"], monkeypatch) == {
        variable: PipelineSettings.model_fields[fields[variable]].default
        for variable in config["data"]
    }


def test_the_pipeline_readme_names_the_value_of_each_setting_the_chart_sets():
    """dags/README.md's row of each variable the ConfigMap sets names the value behind it."""
    template = (ROOT / CONFIG).read_text()
    value_of = dict(re.findall(r"^  (PIPELINE_\w+): \{\{ \.Values\.([\w.]+) ", template, re.M))
    rows = [
        line for line in (ROOT / "dags" / "README.md").read_text().splitlines() if line[:1] == "|"
    ]

    def row_of(variable: str) -> str:
        return next(
            (row for row in rows if f"| `{variable}`" in row or f", `{variable}`" in row), ""
        )

    assert len(value_of) == len(render_chart(show_only=CONFIG)[0]["data"])
    assert sorted(v for v, key in value_of.items() if f"`{key}`" not in row_of(v)) == []


def test_the_settings_configmap_is_named_in_airflows_extra_env_from():
    """The Airflow chart templates extraEnvFrom with its own context: .Release.Name agrees."""
    values = yaml.safe_load((ROOT / "values.yaml").read_text())["airflow"]
    # The list without its template directives (the remote-logging entries are conditional).
    unconditional = "\n".join(
        line for line in values["extraEnvFrom"].splitlines() if "{{-" not in line
    )

    assert {"configMapRef": {"name": "{{ .Release.Name }}-pipeline"}} in yaml.safe_load(
        unconditional
    )


# ----- with the real Airflow chart -----------------------------------------------------

needs_real_deps = pytest.mark.skipif(
    real_deps_dir() is None, reason="needs the real dependency charts (PROYECTO4_DEPS_DIR)"
)


@needs_real_deps
@pytest.mark.parametrize("layer_name", sorted(LAYERS))
def test_every_airflow_component_reads_the_pipeline_settings(layer_name):
    objects = [o for s, o in render_with_sources(value_files=LAYERS[layer_name]) if not is_ours(s)]
    pod_template = yaml.safe_load(
        find(objects, "ConfigMap", "proyecto4-config")["data"]["pod_template_file.yaml"]
    )
    readers = {
        name: find(objects, "Deployment", f"proyecto4-{name}")["spec"]["template"]["spec"][
            "containers"
        ][0]
        for name in ("dag-processor", "scheduler", "api-server")
    }
    readers["task pods"] = pod_template["spec"]["containers"][0]

    for name, container in readers.items():
        assert {"configMapRef": {"name": "proyecto4-pipeline"}} in container["envFrom"], name


@needs_real_deps
@pytest.mark.parametrize("layer_name", sorted(LAYERS))
def test_the_api_server_admits_the_namespaces_pods(layer_name):
    """Airflow's own NetworkPolicy admits nobody without `from`: the first-run Job and the
    task pods (Airflow 3's execution API) must get through."""
    objects = render_chart(value_files=LAYERS[layer_name])
    policy = find(objects, "NetworkPolicy", "proyecto4-api-server-policy")

    assert {"podSelector": {}} in policy["spec"]["ingress"][0]["from"]


# Argo CD's phases, in the order a sync runs them.
ARGOCD_PHASES = ("PreSync", "Sync", "PostSync")


def helm_hook_order(objects: list[dict], event: str) -> list[str]:
    """Names of the Jobs among the `event` hooks in the order Helm runs them: by weight, then
    (same kind) by name, as Helm's sortHooksByKindAndWeight does."""
    hooks = [
        o
        for o in objects
        if o["kind"] == "Job"
        and event in (o["metadata"].get("annotations") or {}).get("helm.sh/hook", "").split(",")
    ]
    return [
        o["metadata"]["name"]
        for o in sorted(
            hooks,
            key=lambda o: (
                int(o["metadata"]["annotations"].get("helm.sh/hook-weight", "0")),
                o["metadata"]["name"],
            ),
        )
    ]


@pytest.mark.parametrize("layer_name", sorted(LAYERS))
def test_the_first_run_comes_after_mlflows_migration_under_helm_and_argocd(layer_name):
    objects = render_chart(value_files=LAYERS[layer_name])
    first, migrate = "proyecto4-first-run", "proyecto4-mlflow-db-migrate"

    order = helm_hook_order(objects, "post-install")
    assert order.index(migrate) < order.index(first), order
    assert order[-1] == first, order

    def argocd_step(name: str) -> tuple[int, int]:
        annotations = find(objects, "Job", name)["metadata"]["annotations"]
        phase = ARGOCD_PHASES.index(annotations.get("argocd.argoproj.io/hook", "Sync"))
        return phase, int(annotations.get("argocd.argoproj.io/sync-wave", "0"))

    assert argocd_step(migrate) < argocd_step(first)
