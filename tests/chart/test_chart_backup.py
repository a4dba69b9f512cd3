"""The backup CronJob (templates/backup-*.yaml): schedule, retention, where it writes, the
credentials it reads, its security settings and NetworkPolicy, in each values layer.

The container names and the labels are the contract with `helm proyecto4 backup/restore`
(proyecto4_common.names, which the plugin's copy mirrors); the script is files/backup/backup.sh, which the URL-mode tests run.
"""

from __future__ import annotations

import pytest
import yaml
from chart.chart_render import LAYERS, ROOT, find, render_chart
from proyecto4_common.names import (
    BACKUP_CHECKSUMS,
    BACKUP_COMPONENT,
    BACKUP_MANIFEST,
    BACKUP_PARTS,
    BACKUP_STEPS,
)

NAME = "proyecto4-backup"
BACKUP_TEMPLATES = (
    "templates/backup-cronjob.yaml",
    "templates/backup-configmap.yaml",
    "templates/backup-networkpolicy.yaml",
)
VALUES = yaml.safe_load((ROOT / "values.yaml").read_text())
PROD = yaml.safe_load((ROOT / "values/prod.yaml").read_text())


def backup_objects(values: dict | None = None, layer: str = "base") -> list[dict]:
    return [
        obj
        for obj in render_chart(values=values, value_files=LAYERS[layer])
        if obj["metadata"]["name"] == NAME
    ]


def cronjob(values: dict | None = None, layer: str = "base") -> dict:
    return find(backup_objects(values, layer), "CronJob", NAME)


def pod(job: dict) -> dict:
    return job["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def steps(job: dict) -> list[dict]:
    spec = pod(job)
    return [*spec.get("initContainers", []), *spec["containers"]]


def env(container: dict) -> dict[str, str | tuple[str, str]]:
    """name -> value, or (secret, key) for a secretKeyRef."""
    found = {}
    for item in container["env"]:
        ref = item.get("valueFrom", {}).get("secretKeyRef")
        found[item["name"]] = (ref["name"], ref["key"]) if ref else item["value"]
    return found


# values -> what the CronJob says
SCHEDULE_CASES = [
    ({}, {"schedule": "30 2 * * *", "timeZone": None, "retention": "7"}),
    (
        {"backup": {"schedule": "@hourly", "timeZone": "Europe/Madrid", "retentionDays": 30}},
        {"schedule": "@hourly", "timeZone": "Europe/Madrid", "retention": "30"},
    ),
]


@pytest.mark.parametrize(("values", "expected"), SCHEDULE_CASES)
def test_schedule_time_zone_and_retention_are_values(values, expected):
    job = cronjob(values)
    assert job["spec"]["schedule"] == expected["schedule"]
    assert job["spec"].get("timeZone") == expected["timeZone"]
    assert {env(c)["RETENTION_DAYS"] for c in steps(job)} == {expected["retention"]}


def test_one_backup_at_a_time_with_history_and_deadlines():
    spec = cronjob()["spec"]
    b = VALUES["backup"]
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["successfulJobsHistoryLimit"] == b["successfulJobsHistoryLimit"]
    assert spec["failedJobsHistoryLimit"] == b["failedJobsHistoryLimit"] >= 1
    assert spec["startingDeadlineSeconds"] == b["startingDeadlineSeconds"]
    job = spec["jobTemplate"]["spec"]
    assert job["activeDeadlineSeconds"] == b["activeDeadlineSeconds"]
    assert job["backoffLimit"] == b["backoffLimit"]
    assert pod(cronjob())["restartPolicy"] == "Never"


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_steps_are_the_plugins_in_their_images_with_secure_defaults(layer):
    job = cronjob(layer=layer)
    spec = pod(job)
    assert [c["name"] for c in steps(job)] == list(BACKUP_STEPS)
    assert [c["name"] for c in spec["containers"]] == [BACKUP_STEPS[-1]]
    images = VALUES["backup"]["images"]
    for container in steps(job):
        image = images[container["name"]]
        assert container["image"] == f"{image['registry']}/{image['repository']}:{image['tag']}"
        assert container["command"] == ["bash", "/scripts/backup.sh", container["name"]]
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["runAsNonRoot"] is True and context["privileged"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert set(container["resources"]) == {"requests", "limits"}
        assert {m["mountPath"] for m in container["volumeMounts"]} == {
            "/backup",
            "/tmp",
            "/scripts",
        }
    assert spec["automountServiceAccountToken"] is False
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] >= 10000
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["work"]["emptyDir"]["sizeLimit"] == VALUES["backup"]["workVolumeSize"]
    assert volumes["scripts"]["configMap"]["name"] == NAME
    labels = job["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/component"] == BACKUP_COMPONENT
    assert job["metadata"]["labels"]["app.kubernetes.io/component"] == BACKUP_COMPONENT


def test_each_step_reads_only_its_own_stores_credentials_from_the_platform_secrets():
    by_step = {c["name"]: env(c) for c in steps(cronjob())}
    secrets = {
        name: value
        for step in by_step.values()
        for name, value in step.items()
        if isinstance(value, tuple)
    }
    assert secrets == {
        "DATA_DB_URL": ("proyecto4-data-db", "DATA_DB_URL"),
        "AIRFLOW_DB_URL": (VALUES["airflow"]["data"]["metadataSecretName"], "connection"),
        "MLFLOW_DB_URL": ("proyecto4-mlflow-db", "MLFLOW_BACKEND_STORE_URI"),
        "ARTIFACTS_ACCESS_KEY_ID": ("proyecto4-object-store", "AWS_ACCESS_KEY_ID"),
        "ARTIFACTS_SECRET_ACCESS_KEY": (
            "proyecto4-object-store",
            "AWS_SECRET_ACCESS_KEY",
        ),
        "BACKUP_ACCESS_KEY_ID": ("proyecto4-object-store", "AWS_ACCESS_KEY_ID"),
        "BACKUP_SECRET_ACCESS_KEY": (
            "proyecto4-object-store",
            "AWS_SECRET_ACCESS_KEY",
        ),
    }
    owned = {
        "postgresql": {"DATA_DB_URL", "AIRFLOW_DB_URL"},
        "mysql": {"MLFLOW_DB_URL"},
        "objects": {n for n in secrets if n.startswith(("ARTIFACTS_", "BACKUP_"))},
    }
    for step, names in owned.items():
        assert {n for n, v in by_step[step].items() if isinstance(v, tuple)} == names, step


def test_every_secret_key_it_reads_is_generated_for_the_in_cluster_servers():
    generated = {
        obj["metadata"]["name"]: set(obj["data"])
        for obj in render_chart(show_only="templates/secret-generated.yaml")
    }
    for container in steps(cronjob()):
        for value in env(container).values():
            if isinstance(value, tuple):
                secret, key = value
                assert key in generated.get(secret, set()), value


# layer -> where backups go and what they copy
DESTINATION_CASES = {
    "base": {
        "ARTIFACTS_URL": VALUES["mlflow"]["env"]["MLFLOW_ARTIFACTS_DESTINATION"],
        "ARTIFACTS_ENDPOINT": "http://proyecto4-minio:9000",
        "BACKUP_ENDPOINT": "http://proyecto4-minio:9000",
        "BACKUP_BUCKET": VALUES["backup"]["destination"]["bucket"],
        "BACKUP_PREFIX": "proyecto4",
    },
    "dev": {
        "ARTIFACTS_ENDPOINT": "http://proyecto4-minio:9000",
        "BACKUP_BUCKET": VALUES["backup"]["destination"]["bucket"],
    },
    "prod": {
        "ARTIFACTS_URL": PROD["mlflow"]["env"]["MLFLOW_ARTIFACTS_DESTINATION"],
        # MLFLOW_S3_ENDPOINT_URL is empty in prod: AWS S3 itself.
        "ARTIFACTS_ENDPOINT": "https://s3.amazonaws.com",
        "BACKUP_ENDPOINT": "https://s3.amazonaws.com",
        "BACKUP_BUCKET": PROD["backup"]["destination"]["bucket"],
    },
}


@pytest.mark.parametrize("layer", sorted(DESTINATION_CASES))
def test_destination_and_artifacts_follow_the_layer(layer):
    objects_step = env(steps(cronjob(layer=layer))[-1])
    for name, expected in DESTINATION_CASES[layer].items():
        assert objects_step[name] == expected, name


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {
                "backup": {
                    "destination": {
                        "endpoint": "https://s3.backup.example",
                        "secretName": "offsite",
                    }
                }
            },
            ("https://s3.backup.example", "offsite"),
        ),
        ({}, ("http://proyecto4-minio:9000", "proyecto4-object-store")),
    ],
)
def test_a_backup_store_of_its_own(values, expected):
    objects_step = env(steps(cronjob(values))[-1])
    assert (objects_step["BACKUP_ENDPOINT"], objects_step["BACKUP_ACCESS_KEY_ID"][0]) == expected


@pytest.mark.parametrize(
    ("values", "airflow_part"),
    [
        ({}, True),
        ({"backup": {"parts": {"airflow": False}}}, False),
        ({"airflow": {"enabled": False}}, False),
    ],
)
def test_airflow_metadata_is_backed_up_when_airflow_is_there(values, airflow_part):
    assert ("AIRFLOW_DB_URL" in env(steps(cronjob(values))[0])) is airflow_part


@pytest.mark.parametrize(("layer", "external"), [("base", False), ("dev", False), ("prod", True)])
def test_network_policy_reaches_the_namespace_and_outside_only_in_prod(layer, external):
    policy = find(backup_objects(layer=layer), "NetworkPolicy", NAME)
    assert policy["spec"]["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/instance": "proyecto4",
        "app.kubernetes.io/component": BACKUP_COMPONENT,
    }
    assert policy["spec"]["ingress"] == []
    egress = policy["spec"]["egress"]
    assert {"to": [{"podSelector": {}}]} in egress
    assert ({"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]} in egress) is external


def test_backup_off_renders_nothing_of_it():
    assert backup_objects({"backup": {"enabled": False}}) == []


def test_the_configmap_holds_the_script_that_writes_the_plugins_layout():
    script = (ROOT / "files/backup/backup.sh").read_text()
    configmap = find(backup_objects(), "ConfigMap", NAME)
    assert configmap["data"]["backup.sh"].strip() == script.strip()
    for _, path in BACKUP_PARTS.values():
        assert path in script
    assert BACKUP_MANIFEST in script and BACKUP_CHECKSUMS in script
    for step in BACKUP_STEPS:
        assert f"step_{step}()" in script


def _admits(rule: dict, labels: dict[str, str]) -> bool:
    """An ingress rule lets a pod of this namespace with these labels in."""
    if "from" not in rule:
        return True
    return any(
        "podSelector" in peer
        and "namespaceSelector" not in peer
        and peer["podSelector"].get("matchLabels", {}).items() <= labels.items()
        for peer in rule["from"]
    )


@pytest.mark.parametrize("server", ["postgresql", "mysql", "minio"])
def test_the_servers_network_policies_let_the_backup_pod_in(server, with_real_deps):
    if not with_real_deps:
        pytest.skip("needs the real dependency charts (PROYECTO4_DEPS_DIR)")
    objects = render_chart()
    name = f"proyecto4-{server}"
    policy = find(objects, "NetworkPolicy", name)
    ports = {p["port"] for p in find(objects, "Service", name)["spec"]["ports"]}
    labels = cronjob()["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    open_ports = {
        port["port"]
        for rule in policy["spec"]["ingress"]
        if _admits(rule, labels)
        for port in rule.get("ports", [])
    }
    assert ports & open_ports, (ports, policy["spec"]["ingress"])
