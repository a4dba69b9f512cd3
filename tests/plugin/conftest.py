import sys
import uuid

import httpx
import pytest
from helm_plugin_env import PLUGIN_ADMIN_TOKEN, REPO, InstalledPlugin, helm_binary
from proyecto4_common import names
from proyecto4_common.names import PRODUCTION_ALIAS
from servers import uvicorn_app

# The plugin is not a workspace package (it installs on its own); its unit tests import it
# from its folder.
sys.path.insert(0, str(REPO / "plugin"))


@pytest.fixture(scope="session", params=["helm3", "helm4"])
def installed_plugin(request, tmp_path_factory) -> InstalledPlugin:
    return InstalledPlugin(helm_binary(request.param), tmp_path_factory.mktemp(request.param))


@pytest.fixture(scope="session")
def plugin(tmp_path_factory) -> InstalledPlugin:
    """The plugin under Helm 4, for the commands run against real services."""
    installed = InstalledPlugin(helm_binary("helm4"), tmp_path_factory.mktemp("helm4-services"))
    assert installed.install.returncode == 0, installed.install.stderr
    return installed


# -- real services for the commands: the shared trained model and an inference API ------

PLUGIN_TAGS = (
    names.TAG_PROMOTION,
    names.TAG_PROMOTED_AT,
    names.TAG_PROMOTED_BY,
    names.TAG_PREVIOUS_PRODUCTION,
    names.TAG_ROLLED_BACK_AT,
)


@pytest.fixture(scope="session")
def model_copy(trained_model):
    """A registered model with versions 1 and 2 of the trained model's run; production: 1."""
    from mlflow import MlflowClient

    client = MlflowClient(trained_model.tracking_uri)
    original = client.get_model_version("flight-delay", trained_model.version)
    name = f"plugin-test-{uuid.uuid4().hex[:8]}"
    client.create_registered_model(name)
    # MLflow 3 sources are logged models (models:/m-...); a new version must name it.
    model_id = original.source.removeprefix("models:/")
    for _ in range(2):
        client.create_model_version(name, original.source, original.run_id, model_id=model_id)
    client.set_registered_model_alias(name, PRODUCTION_ALIAS, "1")
    yield name, client
    client.delete_registered_model(name)


@pytest.fixture
def production_v1(model_copy, api_url):
    """Every test starts from production = v1, served by the API, with no promotion record."""
    name, client = model_copy
    client.set_registered_model_alias(name, PRODUCTION_ALIAS, "1")
    for version in ("1", "2"):
        for key in PLUGIN_TAGS:
            client.delete_model_version_tag(name, version, key)
    reload = httpx.post(
        f"{api_url}/load_model/",
        headers={"Authorization": f"Bearer {PLUGIN_ADMIN_TOKEN}"},
        timeout=60,
    )
    assert reload.status_code == 200, reload.text
    return name, client


@pytest.fixture(scope="session")
def api_url(trained_model, model_copy, tmp_path_factory):
    home = tmp_path_factory.mktemp("plugin-api")
    env = {
        "MLFLOW_TRACKING_URI": trained_model.tracking_uri,
        "PROYECTO4_HOME": str(home),
        "DATA_DB_URL": f"sqlite:///{home / 'data.db'}",
        "INFERENCE_API_MODEL_NAME": model_copy[0],
        "INFERENCE_API_ADMIN_TOKEN": PLUGIN_ADMIN_TOKEN,
        # The plugin makes the API reload; the alias watcher stays out of the way.
        "INFERENCE_API_WATCH_INTERVAL_S": "0",
    }
    with uvicorn_app("inference_api.app:create_app", env, health="/ready") as url:
        yield url
