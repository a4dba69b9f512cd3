"""The inference API's credentials in the chart: the admin token's generated Secret (kept
across upgrades), the env each pod reads, optional API keys, and no token outside Secrets."""

from __future__ import annotations

import base64
import json

import pytest
import yaml
from chart.chart_render import (
    LAYERS,
    NAMESPACE,
    RELEASE,
    ROOT,
    container_env,
    find,
    helm,
    load_manifests,
    prepared_chart,
    render_chart,
    render_with_sources,
)
from fake_kube import fake_cluster
from proyecto4_common.names import ADMIN_TOKEN_ENV, API_KEY_ENV, API_KEYS_ENV

SECRET = "proyecto4-inference-api-admin"
API = f"{RELEASE}-inference-api"
UI = f"{RELEASE}-streamlit"
# Only the API and the UI: a render against the fake cluster maps every kind it renders.
ONLY_OURS = {
    name: {"enabled": False}
    for name in (
        "postgresql",
        "mysql",
        "minio",
        "airflow",
        "kube-prometheus-stack",
        "mlflow",
        "data-source",
    )
}


def env_of(objects: list[dict], deployment: str) -> dict:
    [container] = find(objects, "Deployment", deployment)["spec"]["template"]["spec"]["containers"]
    return container_env(objects, container)


def token_in(objects: list[dict]) -> str:
    data = find(objects, "Secret", SECRET)["data"]
    return base64.b64decode(data["token"]).decode()


def test_the_admin_token_is_generated_kept_on_uninstall_and_read_by_the_api():
    objects = render_chart()
    secret = find(objects, "Secret", SECRET)
    token = token_in(objects)

    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert len(token) == 40 and token.isalnum()
    assert env_of(objects, API)[ADMIN_TOKEN_ENV] == (f"Secret/{SECRET}", token)
    assert API_KEYS_ENV not in env_of(objects, API)


@pytest.mark.parametrize(
    "values, api_env, ui_env",
    [
        ({}, {ADMIN_TOKEN_ENV: f"Secret/{SECRET}"}, {}),
        (
            {"streamlit": {"loadModel": {"enabled": True}}},
            {ADMIN_TOKEN_ENV: f"Secret/{SECRET}"},
            {ADMIN_TOKEN_ENV: f"Secret/{SECRET}"},
        ),
        (
            {
                "inference-api": {"apiKeys": {"existingSecret": "my-keys"}},
                "streamlit": {"apiKey": {"existingSecret": "ui-key"}},
            },
            {ADMIN_TOKEN_ENV: f"Secret/{SECRET}", API_KEYS_ENV: "Secret/my-keys"},
            {API_KEY_ENV: "Secret/ui-key"},
        ),
        (
            {
                "inference-api": {
                    "adminToken": {"secretName": "mine", "secretKey": "t", "generate": False}
                },
                "streamlit": {
                    "loadModel": {"enabled": True, "secretName": "mine", "secretKey": "t"}
                },
            },
            {ADMIN_TOKEN_ENV: "Secret/mine"},
            {ADMIN_TOKEN_ENV: "Secret/mine"},
        ),
    ],
    ids=["default", "UI load button", "API keys", "your own Secret"],
)
def test_each_pod_reads_the_credentials_it_needs_from_secrets(values, api_env, ui_env):
    objects = render_chart(values)
    credentials = (ADMIN_TOKEN_ENV, API_KEYS_ENV, API_KEY_ENV)

    for deployment, expected in ((API, api_env), (UI, ui_env)):
        env = env_of(objects, deployment)
        assert {k: env[k][0] for k in credentials if k in env} == expected, deployment
    [api] = find(objects, "Deployment", API)["spec"]["template"]["spec"]["containers"]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in api["env"]}
    if "apiKeys" in values.get("inference-api", {}):
        assert refs[API_KEYS_ENV] == {"name": "my-keys", "key": "api-keys"}


def test_your_own_secret_is_not_generated():
    objects = render_chart(
        {"inference-api": {"adminToken": {"secretName": "mine", "generate": False}}}
    )

    assert [
        o for o in objects if o["kind"] == "Secret" and o["metadata"]["name"] in (SECRET, "mine")
    ] == []


@pytest.mark.parametrize(
    "layer", [LAYERS["base"], LAYERS["dev"], LAYERS["prod"]], ids=["base", "dev", "prod"]
)
def test_no_token_in_any_configmap_or_values_file(layer):
    values = {"streamlit": {"loadModel": {"enabled": True}}}
    rendered = render_with_sources(values, value_files=layer)
    token = token_in([o for _, o in rendered])

    for _, obj in rendered:
        if obj["kind"] != "Secret":
            assert token not in json.dumps(obj), f"{obj['kind']}/{obj['metadata']['name']}"
    for path in [
        ROOT / "values.yaml",
        *ROOT.joinpath("values").glob("*.yaml"),
        *ROOT.joinpath("chart").glob("*/values.yaml"),
    ]:
        assert _credential_values(yaml.safe_load(path.read_text())) == [], path


# The keys a credential block may hold: where the secret is, never the secret.
REFERENCE_KEYS = {"secretName", "secretKey", "existingSecret", "generate", "enabled"}


def _credential_values(node, path=()) -> list[tuple]:
    """Paths of values that could hold a credential: an env var of ours, or a key other than
    a reference inside adminToken / apiKeys / loadModel / apiKey."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            here = (*path, key)
            if key in (ADMIN_TOKEN_ENV, API_KEYS_ENV, API_KEY_ENV):
                found.append(here)
            elif key in ("adminToken", "apiKeys", "loadModel", "apiKey") and isinstance(
                value, dict
            ):
                found += [(*here, k) for k in value if k not in REFERENCE_KEYS]
            found += _credential_values(value, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _credential_values(value, (*path, i))
    return found


def test_notes_say_how_to_read_the_token_from_the_rendered_secret():
    if helm("version", "--short").stdout.startswith("v3."):
        pytest.skip("Helm 3's install --dry-run=client asks a cluster for its version")
    result = helm(
        "install",
        RELEASE,
        str(prepared_chart()),
        "--namespace",
        NAMESPACE,
        "--dry-run=client",
        "--set",
        "inference-api.apiKeys.existingSecret=my-keys",
    )
    manifest, _, notes = result.stdout.partition("NOTES:")

    assert result.returncode == 0, result.stderr
    assert (
        f"kubectl -n {NAMESPACE} get secret {SECRET} -o jsonpath='{{.data.token}}' | base64 -d"
    ) in notes
    assert "requires an API key from Secret my-keys (key api-keys)" in notes
    assert f"name: {SECRET}\n" in manifest


def _render_against(cluster_secrets: dict, tmp_path, monkeypatch) -> list[dict]:
    with fake_cluster(tmp_path, RELEASE, NAMESPACE, cluster_secrets) as kubeconfig:
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
        overrides = tmp_path / "values.json"
        overrides.write_text(json.dumps(ONLY_OURS))
        result = helm(
            "template",
            RELEASE,
            str(prepared_chart()),
            "--namespace",
            NAMESPACE,
            "-f",
            str(overrides),
            "--dry-run=server",
            "--disable-openapi-validation",
            "--show-only",
            "templates/secret-generated.yaml",
        )
    assert result.returncode == 0, result.stderr
    return load_manifests(result.stdout)


def test_an_upgrade_keeps_the_token_already_in_the_cluster(tmp_path, monkeypatch):
    kept = "the-token-of-the-first-install-0123456789"

    upgraded = _render_against({SECRET: {"token": kept}}, tmp_path, monkeypatch)
    fresh = _render_against({}, tmp_path, monkeypatch)

    assert token_in(upgraded) == kept
    assert token_in(fresh) != kept and len(token_in(fresh)) == 40
