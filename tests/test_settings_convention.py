"""One settings convention for every component (issue 13): pydantic-settings classes whose
own variables carry the component's prefix, on top of the shared CommonSettings, each
variable documented in the component's README."""

from __future__ import annotations

from pathlib import Path

import pytest
from proyecto4_common import names
from proyecto4_common.settings import CommonSettings

REPO = Path(__file__).resolve().parents[1]


def env_names(settings_class) -> set[str]:
    """The environment variables a pydantic-settings class reads."""
    prefix = settings_class.model_config.get("env_prefix", "")
    names = set()
    for name, field in settings_class.model_fields.items():
        alias = field.validation_alias or prefix + name
        # AliasChoices: the first is the variable's name, the others accepted spellings.
        names.add((alias if isinstance(alias, str) else alias.choices[0]).upper())
    return names


def components():
    from data_source.settings import DataSourceSettings
    from inference_api.settings import ApiSettings
    from pipeline.settings import FirstRunSettings, PipelineSettings
    from streamlit_app.settings import UISettings

    # class, its prefixes, its README
    return [
        (PipelineSettings, ("PIPELINE_",), "dags/README.md"),
        # The install-time trigger is an Airflow API client: its connection is AIRFLOW_*.
        (FirstRunSettings, ("FIRST_RUN_", "AIRFLOW_"), "dags/README.md"),
        (ApiSettings, ("INFERENCE_API_",), "services/inference-api/README.md"),
        (UISettings, ("UI_",), "services/streamlit/README.md"),
        (DataSourceSettings, ("DATA_SOURCE_",), "services/data-source/README.md"),
    ]


SHARED = env_names(CommonSettings)


# The API's credentials keep the API's names in its clients (names.py: ADMIN_TOKEN_ENV,
# API_KEY_ENV), so one Secret key reads the same in every pod.
CLIENT_CREDENTIALS = {names.ADMIN_TOKEN_ENV, names.API_KEY_ENV}


def test_the_shared_settings_are_the_designs():
    assert {
        "PROYECTO4_HOME",
        "DATA_DB_URL",
        "MLFLOW_TRACKING_URI",
        "DATA_SOURCE_URL",
        "INFERENCE_API_URL",
    } == SHARED


@pytest.mark.parametrize(
    "index", range(5), ids=["pipeline", "first-run", "api", "ui", "data-source"]
)
def test_a_components_own_settings_carry_its_prefix_and_are_documented(index):
    settings_class, prefixes, readme = components()[index]
    own = env_names(settings_class) - SHARED - CLIENT_CREDENTIALS
    text = (REPO / readme).read_text()

    assert sorted(n for n in own if not n.startswith(prefixes)) == []
    assert sorted(n for n in own if f"`{n}`" not in text) == []
