"""status, promote, rollback and smoke in URL mode against real services: the MLflow
server and trained model of the shared fixtures, and a real inference API process.

The tests work on a registered model of their own (two versions of the trained model's
run) so that moving `production` here never disturbs other test areas.
"""

import httpx
import pytest
from helm_plugin_env import PLUGIN_ADMIN_TOKEN, REPO, plugin_errors, served_version
from proyecto4_common.names import PREDICT_REQUESTS_TOTAL, PRODUCTION_ALIAS
from proyecto4_common.net import free_port


@pytest.fixture
def helm_proyecto4(plugin, trained_model, api_url, model_copy):
    """Runs `helm proyecto4 COMMAND demo ARGS --api-url ... --mlflow-url ...`."""

    def run(command: str, *args: str, api: str = api_url, token: str = PLUGIN_ADMIN_TOKEN):
        urls = ["--api-url", api, "--mlflow-url", trained_model.tracking_uri]
        return plugin.run(
            "proyecto4",
            command,
            "demo",
            *args,
            *urls,
            "--model-name",
            model_copy[0],
            env={"INFERENCE_API_ADMIN_TOKEN": token},
        )

    return run


def test_status_shows_ready_services_production_model_and_served_version(
    helm_proyecto4, production_v1
):
    done = helm_proyecto4("status", "--rate-window", "0")
    assert done.returncode == 0, done.stderr
    name = production_v1[0]
    assert f"production model: {name} v1, production for " in done.stdout
    assert "val_auroc" in done.stdout and "test_accuracy" in done.stdout
    assert "inference API: serves v1" in done.stdout
    assert "last DAG run: not checked (give --airflow-url)" in done.stdout
    assert "NOT READY" not in done.stdout


def test_smoke_predicts_once_and_finds_the_request_counter(helm_proyecto4, api_url, production_v1):
    done = helm_proyecto4("smoke")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"smoke ok: {production_v1[0]} v1 answered ")
    metrics = httpx.get(f"{api_url}/metrics", timeout=30)
    assert metrics.status_code == 200
    assert f'{PREDICT_REQUESTS_TOTAL}{{outcome="success"}}' in metrics.text


def test_promote_moves_production_records_it_and_the_api_serves_it(
    helm_proyecto4, api_url, production_v1
):
    name, client = production_v1
    done = helm_proyecto4("promote", "--version", "2")
    assert done.returncode == 0, done.stderr
    assert f"{name}@production: v1 -> v2" in done.stdout
    assert client.get_model_version_by_alias(name, PRODUCTION_ALIAS).version == "2"
    tags = client.get_model_version(name, "2").tags
    assert tags["promotion"] == "manual promotion of v2"
    assert tags["previous_production"] == "1"
    assert tags["promoted_by"].endswith("via helm proyecto4") and tags["promoted_at"]
    assert served_version(api_url) == "2"


@pytest.mark.parametrize(
    "token, error",
    [
        ("", "reloading the inference API needs its admin token: set INFERENCE_API_ADMIN_TOKEN"),
        ("a-wrong-admin-token-0123456789", "answered 403 to POST /load_model/: wrong admin token"),
    ],
    ids=["no token", "wrong token"],
)
def test_promote_without_the_admin_token_says_so(
    helm_proyecto4, api_url, production_v1, token, error
):
    name, client = production_v1
    done = helm_proyecto4("promote", "--version", "2", token=token)

    assert done.returncode == 1
    [line] = plugin_errors(done.stderr)
    assert error in line
    assert served_version(api_url) == "1"
    if not token:  # refused before the alias moved
        assert client.get_model_version_by_alias(name, PRODUCTION_ALIAS).version == "1"


def test_rollback_returns_to_the_previous_production_version(
    helm_proyecto4, api_url, production_v1
):
    name, client = production_v1
    assert helm_proyecto4("promote", "--version", "2").returncode == 0
    done = helm_proyecto4("rollback")
    assert done.returncode == 0, done.stderr
    assert f"{name}@production: v2 -> v1" in done.stdout
    assert client.get_model_version_by_alias(name, PRODUCTION_ALIAS).version == "1"
    assert client.get_model_version(name, "1").tags["promotion"] == "rollback from v2 to v1"
    assert client.get_model_version(name, "2").tags["rolled_back_at"]
    assert served_version(api_url) == "1"


def test_rollback_never_returns_to_a_version_rolled_back_from(helm_proyecto4, production_v1):
    assert helm_proyecto4("promote", "--version", "2").returncode == 0
    assert helm_proyecto4("rollback").returncode == 0
    done = helm_proyecto4("rollback")
    assert done.returncode == 1
    expected = (
        f"helm proyecto4 rollback: {production_v1[0]} v1 has no earlier production version "
        "on record; use promote --version N instead"
    )
    assert plugin_errors(done.stderr) == [expected]


def test_promoting_a_version_that_does_not_exist_changes_nothing(helm_proyecto4, production_v1):
    name, client = production_v1
    done = helm_proyecto4("promote", "--version", "99")
    assert done.returncode == 1
    assert plugin_errors(done.stderr) == [
        f"helm proyecto4 promote: model {name} has no version 99 in MLflow"
    ]
    assert client.get_model_version_by_alias(name, PRODUCTION_ALIAS).version == "1"


def test_a_service_that_is_down_is_one_line(helm_proyecto4):
    down = f"http://127.0.0.1:{free_port()}"
    done = helm_proyecto4("smoke", api=down)
    assert done.returncode == 1
    lines = plugin_errors(done.stderr)
    assert len(lines) == 1 and lines[0].startswith(
        f"helm proyecto4 smoke: inference API is not reachable at {down}"
    ), lines


def test_loadtest_runs_locust_headless_and_prints_its_summary(helm_proyecto4):
    locustfile = str(REPO / "services/locust/loadtest/locustfile.py")
    done = helm_proyecto4(
        "loadtest",
        "--users",
        "2",
        "--spawn-rate",
        "2",
        "--duration",
        "2s",
        "--locustfile",
        locustfile,
    )
    assert done.returncode == 0, done.stderr
    assert "Aggregated" in done.stdout


def test_loadtest_in_url_mode_needs_a_locustfile(helm_proyecto4):
    done = helm_proyecto4("loadtest", "--duration", "2s")
    assert done.returncode == 1
    lines = plugin_errors(done.stderr)
    assert len(lines) == 1 and "loadtest: URL mode needs --locustfile" in lines[0], lines
