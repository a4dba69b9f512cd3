#!/usr/bin/env bash
# Package the REAL dependency charts pinned in Chart.yaml from git checkouts of their
# public repositories, into OUT_DIR (default /tmp/proyecto4-deps), so the chart tests can
# render the full umbrella offline:
#
#   ci/package-real-deps.sh /tmp/proyecto4-deps
#   PROYECTO4_DEPS_DIR=/tmp/proyecto4-deps uv run pytest tests/chart
#
# Each source is a git directory (bare or not) given by environment variables; every
# chart is taken from the commit of its release tag, so what is rendered is what the
# registry serves. Nothing here is committed: keep OUT_DIR outside the repository.
#   BITNAMI_GIT     bitnami/charts              (postgresql, mysql, minio, common)
#   PROMETHEUS_GIT  prometheus-community/helm-charts (kube-prometheus-stack + its deps)
#   GRAFANA_GIT     grafana-community/helm-charts    (grafana, a kube-prometheus-stack dep)
#   AIRFLOW_GIT     a git directory holding the Apache Airflow chart at AIRFLOW_REF:AIRFLOW_PATH
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-/tmp/proyecto4-deps}"
helm="${HELM_BIN:-$root/.tools/helm4/helm}"
# PROYECTO4_MIRRORS: a folder of git snapshots named <owner>+<repo>/repo, the default of each
# source below; without it every *_GIT variable must be given.
mirrors="${PROYECTO4_MIRRORS:-}"
BITNAMI_GIT="${BITNAMI_GIT:-${mirrors:+$mirrors/bitnami+charts/repo}}"
PROMETHEUS_GIT="${PROMETHEUS_GIT:-${mirrors:+$mirrors/prometheus-community+helm-charts/repo}}"
GRAFANA_GIT="${GRAFANA_GIT:-${mirrors:+$mirrors/grafana-community+helm-charts/repo}}"
AIRFLOW_GIT="${AIRFLOW_GIT:-${mirrors:+$mirrors/cloudapp-suites+cloudapps-catalog/repo}}"
for source in BITNAMI_GIT PROMETHEUS_GIT GRAFANA_GIT AIRFLOW_GIT; do
    if [ -z "${!source}" ]; then
        echo "error: set $source (a git directory) or PROYECTO4_MIRRORS" >&2
        exit 2
    fi
done
# apache/airflow is too large to mirror here, so the default source of Airflow chart 1.18.0 is
# the first commit of a public catalogue that vendored the released package: its templates and
# values.schema.json are the release's; its values.yaml has a few defaults changed by the
# vendor (image names, a storage class, the API server's Service type, git-sync on), all of
# which our values.yaml sets explicitly. Point AIRFLOW_GIT/AIRFLOW_REF/AIRFLOW_PATH at a
# checkout of apache/airflow (tag helm-chart/1.18.0, path chart) to use upstream itself.
AIRFLOW_REF="${AIRFLOW_REF:-7646596}"
AIRFLOW_PATH="${AIRFLOW_PATH:-charts/airflow}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# extract GIT REF PATH DEST: copy one chart folder of one commit into DEST. (A partial mirror
# may print "invalid object" for large blobs outside PATH; the archive of PATH is complete.)
extract() {
    local git_dir="$1" ref="$2" path="$3" dest="$4"
    mkdir -p "$dest"
    git --git-dir="$(git -C "$git_dir" rev-parse --absolute-git-dir)" archive "$ref" "$path" \
        | tar -x -C "$dest" --strip-components="$(awk -F/ '{print NF}' <<<"$path")"
}

# bitnami NAME VERSION COMMON_VERSION DEST: a Bitnami chart with its `common` library.
bitnami() {
    local name="$1" version="$2" common="$3" dest="$4"
    extract "$BITNAMI_GIT" "$name/$version" "bitnami/$name" "$dest"
    rm -rf "$dest/charts"
    extract "$BITNAMI_GIT" "common/$common" "bitnami/common" "$dest/charts/common"
}

bitnami postgresql 16.7.27 2.31.4 "$work/postgresql"
bitnami mysql 14.0.3 2.31.4 "$work/mysql"
bitnami minio 17.0.21 2.31.4 "$work/minio"

# Airflow 1.18.0 declares Bitnami postgresql 13.2.24 (disabled by our values).
extract "$AIRFLOW_GIT" "$AIRFLOW_REF" "$AIRFLOW_PATH" "$work/airflow"
rm -rf "$work/airflow/charts"
bitnami postgresql 13.2.24 2.13.3 "$work/airflow/charts/postgresql"

kps="$work/kube-prometheus-stack"
extract "$PROMETHEUS_GIT" kube-prometheus-stack-88.5.3 charts/kube-prometheus-stack "$kps"
for dep in kube-state-metrics-8.4.0 prometheus-node-exporter-4.56.1 prometheus-windows-exporter-0.12.8; do
    extract "$PROMETHEUS_GIT" "$dep" "charts/${dep%-*}" "$kps/charts/${dep%-*}"
done
extract "$GRAFANA_GIT" grafana-12.11.1 charts/grafana "$kps/charts/grafana"

for chart in postgresql mysql minio airflow kube-prometheus-stack; do
    "$helm" package "$work/$chart" --destination "$out" >/dev/null
done
ls -1 "$out"
