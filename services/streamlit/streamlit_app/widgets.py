"""Pieces several pages draw alike: the version chooser and cached artifact downloads."""

from __future__ import annotations

import streamlit as st

from streamlit_app.registry import Registry, VersionInfo, describe, production


def version_chooser(versions: list[VersionInfo], key: str | None = None) -> VersionInfo:
    """A select box of every version, the production one (else the newest) preselected."""
    by_number = {v.version: v for v in versions}
    default = production(versions) or versions[0]
    number = st.selectbox(
        "Model version",
        list(by_number),
        index=versions.index(default),
        format_func=lambda n: describe(by_number[n]),
        key=key,
    )
    return by_number[number]


# A run's artifacts never change: one download per file and process is enough.
@st.cache_data(show_spinner="Downloading from MLflow…", max_entries=64)
def artifact(tracking_uri: str, timeout_s: float, run_id: str, path: str) -> bytes | None:
    return Registry(tracking_uri, timeout_s).artifact(run_id, path)


@st.cache_data(show_spinner="Downloading the backtest from MLflow…", max_entries=64)
def backtest_folds(tracking_uri: str, timeout_s: float, run_id: str) -> list[dict] | None:
    return Registry(tracking_uri, timeout_s).backtest(run_id)
