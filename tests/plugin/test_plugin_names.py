"""The plugin's copy of the shared names (plugin/proyecto4_plugin/names.py) is the platform's
(proyecto4_common.names): same name, same value, for every name the plugin defines."""

from __future__ import annotations

import pytest
from proyecto4_common import names as common
from proyecto4_plugin import names as plugin

PLUGIN_NAMES = sorted(name for name in vars(plugin) if name.isupper())


def test_the_plugin_defines_the_names_it_relies_on():
    assert {"TAG_PROMOTION", "TAG_DECIDED_AT", "TAG_PREVIOUS_PRODUCTION", "BACKUP_PARTS"} <= set(
        PLUGIN_NAMES
    )


@pytest.mark.parametrize("name", PLUGIN_NAMES)
def test_each_plugin_name_is_the_platforms(name):
    assert hasattr(common, name), (
        f"{name} is in the plugin's names.py only: define it in common first"
    )
    assert getattr(plugin, name) == getattr(common, name)
