"""`helm plugin install` with Helm 3 and Helm 4, and what the installed plugin answers."""

import yaml
from helm_plugin_env import plugin_errors

COMMANDS = ("status", "promote", "rollback", "smoke", "loadtest")


def test_install_hook_makes_the_plugins_own_environment(installed_plugin):
    assert installed_plugin.install.returncode == 0, installed_plugin.install.stderr
    assert "environment ready" in installed_plugin.install.stdout


def test_helm_lists_the_plugin(installed_plugin):
    listing = installed_plugin.run("plugin", "list")
    assert listing.returncode == 0, listing.stderr
    assert any(line.split()[:2] == ["proyecto4", "0.1.0"] for line in listing.stdout.splitlines())


def test_help_lists_every_command(installed_plugin):
    done = installed_plugin.run("proyecto4", "--help")
    assert done.returncode == 0, done.stderr
    listed = [word for word in COMMANDS if f"    {word} " in done.stdout]
    assert listed == list(COMMANDS)


def test_usage_mistake_is_one_line_and_exit_2(installed_plugin):
    done = installed_plugin.run("proyecto4", "promote", "demo")
    assert done.returncode == 2
    assert plugin_errors(done.stderr) == [
        "helm proyecto4 promote: the following arguments are required: --version (see --help)"
    ]


def test_no_cluster_is_one_line_and_exit_1(installed_plugin, tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "gone", "cluster": {"server": "https://127.0.0.1:9"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "u"}}],
                "current-context": "gone",
            }
        )
    )
    done = installed_plugin.run("proyecto4", "status", "demo", env={"KUBECONFIG": str(kubeconfig)})
    assert done.returncode == 1
    lines = plugin_errors(done.stderr)
    assert len(lines) == 1 and lines[0].startswith("helm proyecto4 status: no cluster reachable"), (
        lines
    )


def test_namespace_and_context_flags_reach_the_plugin(installed_plugin, tmp_path):
    # Helm consumes -n/--kube-context and hands them on; the release lookup names both.
    done = installed_plugin.run(
        "proyecto4", "smoke", "demo", "-n", "team-a", "--kube-context", "nowhere"
    )
    assert done.returncode == 1
    lines = plugin_errors(done.stderr)
    assert len(lines) == 1 and 'context "nowhere" does not exist' in lines[0], lines
