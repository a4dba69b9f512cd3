#!/bin/sh
# Build stage helper of the service images (services/*/Dockerfile), run from /src:
#   build-venv.sh deps <workspace member>   -> /opt/venv with the member's locked dependencies
#   build-venv.sh code <folder>...          -> our own packages (no dependency resolution)
# Dependencies come from uv.lock only: `uv export --frozen` of one member, installed with
# --require-hashes and --no-deps, so an image holds exactly what the lock says.
set -eu
export UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
step="$1"
shift
case "$step" in
    deps)
        pip install --no-cache-dir uv==0.13.9
        uv export --frozen --no-dev --no-emit-workspace --package "$1" -o /tmp/requirements.txt
        uv venv /opt/venv
        uv pip install --python /opt/venv/bin/python --no-deps --require-hashes -r /tmp/requirements.txt
        ;;
    code)
        uv pip install --python /opt/venv/bin/python --no-deps "$@"
        ;;
    *)
        echo "usage: $0 deps <member> | code <folder>..." >&2
        exit 2
        ;;
esac
