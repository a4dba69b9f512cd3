"""promote and rollback: move the `production` alias, record it, make the API serve it.

The record: tags on the model version that became production (`promotion` with the
decision text, `promoted_at`, `promoted_by`, `previous_production`). `previous_production`
chains the history, so repeated rollbacks walk back through earlier promotions.
"""

from __future__ import annotations

import getpass
import os
from datetime import datetime, timezone

from proyecto4_plugin.errors import PluginError
from proyecto4_plugin.http import Service
from proyecto4_plugin.inference_api import InferenceApi, served_version
from proyecto4_plugin.names import (
    PIPELINE_PROMOTED_PREFIX,
    TAG_DECIDED_AT,
    TAG_PREVIOUS_PRODUCTION,
    TAG_PROMOTED_AT,
    TAG_PROMOTED_BY,
    TAG_PROMOTION,
    TAG_ROLLED_BACK_AT,
)
from proyecto4_plugin.registry import Registry, tags_of


def actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user} via helm proyecto4"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def promoted_at(model_version: dict) -> datetime | None:
    """When the version last became production, by the plugin or by the pipeline."""
    tags = tags_of(model_version)
    text = tags.get(TAG_PROMOTED_AT)
    if not text and tags.get(TAG_PROMOTION, "").startswith(PIPELINE_PROMOTED_PREFIX):
        text = tags.get(TAG_DECIDED_AT)
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def rollback_target(registry: Registry, current: dict) -> str:
    """The version that was production before the current one.

    The plugin's own record names it (`previous_production`); after a pipeline promotion,
    it is the version promoted most recently before, leaving out versions already rolled
    back from.
    """
    previous = tags_of(current).get(TAG_PREVIOUS_PRODUCTION)
    if previous:
        registry.version(previous)  # fails clearly if that version was deleted since
        return previous
    since = promoted_at(current)
    earlier = [
        (promoted_at(v), v["version"])
        for v in registry.versions()
        if v["version"] != current["version"]
        and promoted_at(v)
        and not tags_of(v).get(TAG_ROLLED_BACK_AT)
    ]
    earlier = [pair for pair in earlier if since is None or pair[0] < since]
    if not earlier:
        raise PluginError(
            f"{registry.model_name} v{current['version']} has no earlier production version "
            "on record; use promote --version N instead"
        )
    return max(earlier)[1]


def move_production(
    registry: Registry, version: str, decision: str, *, rollback: bool
) -> str | None:
    """Point `production` at `version` and tag it; returns the version it replaced."""
    target = registry.version(version)
    current = registry.production()
    previous = current["version"] if current else None
    tags = {
        TAG_PROMOTION: decision,
        TAG_PROMOTED_AT: now_iso(),
        TAG_PROMOTED_BY: os.environ.get("PROYECTO4_ACTOR") or actor(),
    }
    # A rollback keeps the target's own history so a second rollback goes further back.
    if previous and previous != version and not rollback:
        tags[TAG_PREVIOUS_PRODUCTION] = previous
    registry.set_production(target["version"])
    registry.set_tags(target["version"], tags)
    if rollback and previous and previous != version:
        registry.set_tags(previous, {TAG_ROLLED_BACK_AT: tags[TAG_PROMOTED_AT]})
    elif not rollback:
        registry.delete_tag(target["version"], TAG_ROLLED_BACK_AT)
    return previous


def reload_and_check(replicas: list[Service], version: str) -> list[str]:
    """Each API replica reloads `production` and must then report `version`."""
    lines = []
    for service in replicas:
        api = InferenceApi(service)
        api.load_model()
        served = served_version(api.model())
        if served != str(version):
            raise PluginError(
                f"{service.name} serves version {served} after reloading, expected {version}"
            )
        lines.append(f"{service.name} now serves v{served}")
    return lines
