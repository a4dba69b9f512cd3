"""The Argo CD app of apps (argocd/, a small Helm chart Argo CD renders)."""

from pathlib import Path

import pytest
import yaml
from chart.chart_render import helm

REPO = Path(__file__).resolve().parents[2]
ARGOCD = REPO / "argocd"
VALUES = yaml.safe_load((ARGOCD / "values.yaml").read_text())
ENVIRONMENTS = ["dev", "prod"]


@pytest.fixture(scope="module")
def applications(render) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in render(ARGOCD)}


def helm_source(app: dict) -> dict:
    return app["spec"]["source"]["helm"]


def test_every_rendered_object_is_an_argo_cd_application_in_the_argocd_namespace(applications):
    assert {(a["apiVersion"], a["kind"]) for a in applications.values()} == {
        ("argoproj.io/v1alpha1", "Application")
    }
    assert {a["metadata"]["namespace"] for a in applications.values()} == {
        VALUES["argocdNamespace"]
    }


def test_the_root_application_renders_this_folder_and_so_manages_itself(applications):
    root = applications[VALUES["root"]["name"]]
    assert root["spec"]["source"]["path"] == "argocd"
    assert helm_source(root)["valueFiles"] == ["values.yaml"]


def test_one_application_per_environment_besides_the_root(applications):
    assert set(applications) == {VALUES["root"]["name"]} | {
        f"proyecto4-{env}" for env in ENVIRONMENTS
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_environment_renders_the_repository_root_with_its_value_files(applications, env):
    app = applications[f"proyecto4-{env}"]
    assert app["spec"]["source"]["path"] == "."
    assert helm_source(app)["valueFiles"] == ["values.yaml", f"values/{env}.yaml"]
    assert helm_source(app)["ignoreMissingValueFiles"] is False
    assert app["spec"]["destination"]["namespace"] == f"proyecto4-{env}"


def test_every_value_file_named_exists_relative_to_its_source_path(applications):
    named = [
        REPO / app["spec"]["source"]["path"] / name
        for app in applications.values()
        for name in helm_source(app)["valueFiles"]
    ]
    missing = [str(path.relative_to(REPO)) for path in named if not path.is_file()]
    assert missing == []


def test_repository_url_and_revision_come_from_one_place(applications):
    sources = {
        (a["spec"]["source"]["repoURL"], a["spec"]["source"]["targetRevision"])
        for a in applications.values()
    }
    assert sources == {(VALUES["repoURL"], VALUES["targetRevision"])}
    templates = "".join(p.read_text() for p in (ARGOCD / "templates").iterdir())
    assert VALUES["repoURL"] not in templates


def test_a_fork_changes_url_and_revision_for_every_application(render):
    apps = render(
        ARGOCD,
        "--set",
        "repoURL=https://git.example.test/fork.git",
        "--set",
        "targetRevision=v1.2.0",
    )
    assert {
        (a["spec"]["source"]["repoURL"], a["spec"]["source"]["targetRevision"]) for a in apps
    } == {("https://git.example.test/fork.git", "v1.2.0")}


@pytest.mark.parametrize(
    "name, prune, self_heal",
    [("proyecto4", True, True), ("proyecto4-dev", True, True), ("proyecto4-prod", False, True)],
)
def test_automated_sync_with_prune_and_self_heal_per_application(
    applications, name, prune, self_heal
):
    automated = applications[name]["spec"]["syncPolicy"]["automated"]
    assert automated == {"prune": prune, "selfHeal": self_heal}
    assert "CreateNamespace=true" in applications[name]["spec"]["syncPolicy"]["syncOptions"]


def test_automated_sync_is_an_option(render):
    apps = render(ARGOCD, "--set", "syncPolicy.automated=false")
    assert [a["metadata"]["name"] for a in apps if "automated" in a["spec"]["syncPolicy"]] == []


def test_dev_syncs_before_prod(applications):
    wave = {
        env: int(
            applications[f"proyecto4-{env}"]["metadata"]["annotations"][
                "argocd.argoproj.io/sync-wave"
            ]
        )
        for env in ENVIRONMENTS
    }
    assert wave["dev"] < wave["prod"]


def test_a_disabled_environment_has_no_application(render):
    apps = render(ARGOCD, "--set", "environments.prod.enabled=false")
    assert sorted(a["metadata"]["name"] for a in apps) == ["proyecto4", "proyecto4-dev"]


@pytest.mark.parametrize(
    "setting, path",
    [
        ("repoURL=", "/repoURL"),
        ("syncPolicy.prune=yes", "/syncPolicy/prune"),
        ("environments.prod.sync=1", "/environments/prod"),
        ("environments.prod.server=http://cluster", "/environments/prod/server"),
        ("environments.Prod.enabled=true", "/environments"),
    ],
)
def test_a_bad_value_fails_with_the_path_of_the_mistake(setting, path):
    done = helm("template", "proyecto4", str(ARGOCD), "--set", setting)
    dotted = path.strip("/").replace("/", ".")  # Helm 3 names the path so, Helm 4 as /a/b
    assert done.returncode != 0
    assert "don't meet the specifications of the schema" in done.stderr, done.stderr
    assert f"at '{path}" in done.stderr or f"- {dotted}" in done.stderr, done.stderr


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_generated_secrets_are_created_once_and_never_rewritten(applications, env):
    # The chart draws new passwords at each `helm template`; Argo CD must keep the live ones.
    spec = applications[f"proyecto4-{env}"]["spec"]
    assert spec["ignoreDifferences"] == [{"group": "", "kind": "Secret", "jsonPointers": ["/data"]}]
    assert "RespectIgnoreDifferences=true" in spec["syncPolicy"]["syncOptions"]


def test_secret_data_follows_git_when_secrets_come_from_elsewhere(render):
    apps = render(ARGOCD, "--set", "keepSecretData=false")
    kept = [
        a["metadata"]["name"]
        for a in apps
        if "ignoreDifferences" in a["spec"]
        or "RespectIgnoreDifferences=true" in a["spec"]["syncPolicy"]["syncOptions"]
    ]
    assert kept == []
