#!/bin/sh
# Install/update hook: makes the plugin's own virtual environment in .venv next to
# plugin.yaml with only requirements.txt in it (no Airflow, no platform workspace).
# Uses uv when present (honours UV_OFFLINE and uv's cache), else python3 -m venv + pip.
set -eu
plugin_dir="$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)"
venv="$plugin_dir/.venv"
python="${PROYECTO4_PLUGIN_PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    echo "helm proyecto4: needs Python 3.10 or newer as $python (set PROYECTO4_PLUGIN_PYTHON)" >&2
    exit 1
fi
if command -v uv >/dev/null 2>&1; then
    uv venv --quiet --no-project --allow-existing --python "$python" "$venv"
    uv pip install --quiet --python "$venv/bin/python" -r "$plugin_dir/requirements.txt"
else
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$plugin_dir/requirements.txt"
fi
echo "helm proyecto4: environment ready in $venv"
