#!/usr/bin/env bash
# Cache MLServer (ci/mlserver-requirements.txt) with the registered model's own pinned
# requirements (proyecto4_common.registered_model.pip_requirements, what the model's
# requirements.txt holds) in uv's tool cache, for tests/api/test_api_registered_model.py,
# which starts it offline with the same `uvx` line. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tools
# What the model's requirements.txt holds: pip_requirements() and the mlflow pin MLflow adds
# when it logs the model (so a newer mlflow on PyPI cannot make the cache miss offline).
uv run --frozen python -c '
from importlib.metadata import version
from proyecto4_common.registered_model import pip_requirements
print("\n".join(sorted({*pip_requirements(), "mlflow==" + version("mlflow")})))' \
    > .tools/model-requirements.txt
uvx --with-requirements ci/mlserver-requirements.txt --with-requirements .tools/model-requirements.txt \
    --from mlserver mlserver --version
