"""The platform chart renders with exactly the value files the Argo CD Applications name,
and what it renders suits Argo CD: sync waves in order, no Helm hooks on migrations."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARGOCD = REPO / "argocd"
WAVE = "argocd.argoproj.io/sync-wave"


@pytest.fixture(scope="module")
def environment_apps(render) -> list[dict]:
    return [a for a in render(ARGOCD) if a["spec"]["source"]["path"] == "."]


@pytest.fixture(scope="module")
def rendered(render, environment_apps) -> dict[str, list[dict]]:
    """Each environment's platform objects, rendered as Argo CD renders them."""
    if not (REPO / "Chart.yaml").is_file():
        pytest.skip("the platform chart (Chart.yaml at the repository root) is not there yet")
    out = {}
    for app in environment_apps:
        helm = app["spec"]["source"]["helm"]
        files = [arg for name in helm["valueFiles"] for arg in ("-f", str(REPO / name))]
        out[app["metadata"]["name"]] = render(
            REPO,
            *files,
            "--namespace",
            app["spec"]["destination"]["namespace"],
            release=helm["releaseName"],
        )
    return out


def test_each_environment_renders_objects(rendered):
    assert {name: len(objects) > 0 for name, objects in rendered.items()} == {
        "proyecto4-dev": True,
        "proyecto4-prod": True,
    }


def waves(objects: list[dict], kinds: tuple[str, ...], *words: str) -> dict[str, int]:
    """Sync wave of each object of `kinds` whose name holds one of `words` (0 when unset)."""
    found = {}
    for obj in objects:
        name = obj["metadata"]["name"]
        if obj["kind"] in kinds and any(word in name for word in words):
            annotations = obj["metadata"].get("annotations") or {}
            found[f"{obj['kind']}/{name}"] = int(annotations.get(WAVE, 0))
    return found


@pytest.mark.parametrize("app", ["proyecto4-dev", "proyecto4-prod"])
def test_databases_sync_before_migrations_and_migrations_before_servers(rendered, app):
    objects = rendered[app]
    databases = waves(objects, ("StatefulSet", "Deployment"), "postgresql", "mysql", "minio")
    migrations = waves(objects, ("Job",), "migrat")
    servers = waves(objects, ("Deployment",), "mlflow", "api-server", "scheduler", "inference-api")
    assert databases and servers, f"no databases or servers found in {app}"
    assert max(databases.values()) < min(servers.values()), (databases, servers)
    if migrations:
        assert max(databases.values()) < min(migrations.values()), (databases, migrations)
        assert max(migrations.values()) < min(servers.values()), (migrations, servers)


@pytest.mark.parametrize("app", ["proyecto4-dev", "proyecto4-prod"])
def test_migration_jobs_are_not_helm_hooks(rendered, app):
    # Argo CD runs a Helm post-install hook as PostSync, after every pod is healthy, while
    # the servers' pods wait for the migration: a migration Job must be a plain resource
    # or an Argo CD hook (whose annotation makes Argo CD ignore the Helm one).
    hooked = [
        obj["metadata"]["name"]
        for obj in rendered[app]
        if obj["kind"] == "Job"
        and "migrat" in obj["metadata"]["name"]
        and "helm.sh/hook" in (annotations := obj["metadata"].get("annotations") or {})
        and "argocd.argoproj.io/hook" not in annotations
    ]
    assert hooked == []
