import sys

import pytest
from helm_plugin_env import REPO, InstalledPlugin, helm_binary

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
