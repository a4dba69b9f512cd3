"""The registry cannot be written anonymously; each part works with its own user."""

from __future__ import annotations

import sys

import httpx
import pytest
from proyecto4_common.names import ADMIN_TOKEN_ENV, MODEL_NAME, PRODUCTION_ALIAS
from proyecto4_mlflow.auth import User
from servers import REPO, logged_in_as, uvicorn_app

# The inference API's admin token: the plugin's promote and rollback reload the API with it.
API_ADMIN_TOKEN = "mlflow-auth-test-admin-token-0123"

API = "/api/2.0/mlflow"
# The API loads the model before /ready answers; a loaded shared machine needs more than the default.
API_START_S = 400

# (method, path, body): a search, a registration and a move of `production`.
ANONYMOUS_REQUESTS = [
    ("GET", "/experiments/search", {"max_results": 10}),
    ("POST", "/registered-models/create", {"name": "anonymous-model"}),
    ("POST", "/model-versions/create", {"name": MODEL_NAME, "source": "models:/m-0"}),
    (
        "POST",
        "/registered-models/alias",
        {"name": MODEL_NAME, "alias": PRODUCTION_ALIAS, "version": "1"},
    ),
    ("DELETE", "/registered-models/alias", {"name": MODEL_NAME, "alias": PRODUCTION_ALIAS}),
]


def call(url: str, method: str, path: str, body: dict, auth=None) -> httpx.Response:
    where = {"params": body} if method == "GET" else {"json": body}
    return httpx.request(method, url + API + path, auth=auth, timeout=60, **where)


@pytest.mark.parametrize(("method", "path", "body"), ANONYMOUS_REQUESTS)
def test_anonymous_requests_are_refused(secured_model, users, method, path, body):
    from mlflow import MlflowClient

    answer = call(secured_model.url, method, path, body)
    assert answer.status_code == 401
    # Nothing moved: production is still the pipeline's version.
    with logged_in_as(users.reader):
        production = MlflowClient(secured_model.url).get_model_version_by_alias(
            MODEL_NAME, PRODUCTION_ALIAS
        )
    assert production.version == secured_model.version


def test_a_wrong_password_is_refused_and_health_stays_open(secured_mlflow, users):
    url = secured_mlflow[0]
    assert (
        call(
            url, "GET", "/experiments/search", {"max_results": 1}, ("reader", "not-the-password")
        ).status_code
        == 401
    )
    # Probes and `helm test` ask /health without credentials.
    assert httpx.get(url + "/health", timeout=30).status_code == 200


def test_the_pipeline_user_trained_registered_and_promoted(secured_model, users):
    from mlflow import MlflowClient

    assert secured_model.decision  # register_champion decided with the pipeline's user
    with logged_in_as(users.reader):
        version = MlflowClient(secured_model.url).get_model_version_by_alias(
            MODEL_NAME, PRODUCTION_ALIAS
        )
        run = MlflowClient(secured_model.url).get_run(version.run_id)
    assert version.version == secured_model.version
    assert run.info.user_id == users.pipeline.username


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        (
            "POST",
            "/registered-models/alias",
            {"name": MODEL_NAME, "alias": PRODUCTION_ALIAS, "version": "1"},
        ),
        ("POST", "/model-versions/create", {"name": MODEL_NAME, "source": "models:/m-0"}),
        ("DELETE", "/registered-models/delete", {"name": MODEL_NAME}),
    ],
)
def test_the_reader_reads_but_cannot_change_the_registered_model(
    secured_model, users, method, path, body
):
    reader = (users.reader.username, users.reader.password)
    got = call(
        secured_model.url,
        "GET",
        "/registered-models/alias",
        {"name": MODEL_NAME, "alias": PRODUCTION_ALIAS},
        reader,
    )
    assert got.status_code == 200
    assert got.json()["model_version"]["version"] == secured_model.version
    assert call(secured_model.url, method, path, body, reader).status_code == 403


def _api_env(secured_model, user) -> dict[str, str]:
    env = {
        "MLFLOW_TRACKING_URI": secured_model.url,
        "DATA_DB_URL": secured_model.data_db_url,
        "INFERENCE_API_WATCH_INTERVAL_S": "0",
        # promote and rollback reload the API, which needs its admin token (issue 16).
        ADMIN_TOKEN_ENV: API_ADMIN_TOKEN,
        # No retries for minutes on a refused request.
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    }
    return {**env, **(user.tracking_env() if user else {})}


def test_the_api_loads_production_with_the_reader_user(secured_model, users):
    with uvicorn_app(
        "inference_api.app:create_app",
        _api_env(secured_model, users.reader),
        health="/ready",
        timeout=API_START_S,
    ) as api:
        model = httpx.get(api + "/model", timeout=30)
        assert model.status_code == 200
        assert model.json()["model_version"] == secured_model.version


def test_the_api_without_credentials_serves_no_model(secured_model):
    with uvicorn_app("inference_api.app:create_app", _api_env(secured_model, None)) as api:
        ready = httpx.get(api + "/ready", timeout=30)
        assert ready.status_code == 503
        assert httpx.post(api + "/load_model/", json={}, timeout=120).status_code != 200


def test_the_ui_reads_the_history_and_shap_plots_with_the_reader_user(secured_model, users):
    from proyecto4_common.names import SHAP_BAR_PLOT
    from streamlit_app.registry import MlflowUnavailable, Registry

    with logged_in_as(users.reader):
        registry = Registry(secured_model.url, timeout_s=30)
        [production] = [v for v in registry.versions() if v.in_production]
        assert str(production.version) == secured_model.version
        assert registry.artifact(production.run_id, SHAP_BAR_PLOT).startswith(b"\x89PNG")
    with logged_in_as(None), pytest.raises(MlflowUnavailable):
        Registry(secured_model.url, timeout_s=30).versions()


# -- the plugin's promote and rollback (URL mode) with the admin user -----------------------

sys.path.insert(0, str(REPO / "tests" / "plugin"))


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    from helm_plugin_env import InstalledPlugin, helm_binary

    installed = InstalledPlugin(helm_binary("helm4"), tmp_path_factory.mktemp("helm4-auth"))
    assert installed.install.returncode == 0, installed.install.stderr
    return installed


@pytest.fixture(scope="module")
def two_versions(secured_model, users):
    """A second version of the production run, registered by the pipeline user; production: v1."""
    from mlflow import MlflowClient

    with logged_in_as(users.pipeline):
        client = MlflowClient(secured_model.url)
        first = client.get_model_version_by_alias(MODEL_NAME, PRODUCTION_ALIAS)
        second = client.create_model_version(
            MODEL_NAME, first.source, first.run_id, model_id=first.source.removeprefix("models:/")
        )
    return first.version, second.version


def test_the_plugin_promotes_and_rolls_back_with_the_admin_user(
    plugin, secured_model, users, two_versions
):
    from helm_plugin_env import served_version
    from mlflow import MlflowClient

    first, second = two_versions
    with uvicorn_app(
        "inference_api.app:create_app",
        _api_env(secured_model, users.reader),
        health="/ready",
        timeout=API_START_S,
    ) as api:
        urls = ["--api-url", api, "--mlflow-url", secured_model.url]

        def helm_proyecto4(user, command, *args):
            env = (
                user.tracking_env()
                if user
                else {"MLFLOW_TRACKING_USERNAME": "", "MLFLOW_TRACKING_PASSWORD": ""}
            )
            env[ADMIN_TOKEN_ENV] = API_ADMIN_TOKEN
            return plugin.run("proyecto4", command, "demo", *args, *urls, env=env)

        def production() -> str:
            with logged_in_as(users.reader):
                return (
                    MlflowClient(secured_model.url)
                    .get_model_version_by_alias(MODEL_NAME, PRODUCTION_ALIAS)
                    .version
                )

        for refused in (None, users.reader, User("admin", "wrong-password")):
            done = helm_proyecto4(refused, "promote", "--version", second)
            assert done.returncode != 0
            assert production() == first
        done = helm_proyecto4(users.admin, "promote", "--version", second)
        assert done.returncode == 0, done.stderr
        assert production() == second and served_version(api) == second
        done = helm_proyecto4(users.admin, "rollback")
        assert done.returncode == 0, done.stderr
        assert production() == first and served_version(api) == first
