#!/usr/bin/env bash
# Cache NannyML (pinned in ci/nannyml-requirements.txt) for tests/common/test_estimation.py,
# which runs it offline with `uvx --offline --with-requirements ci/nannyml-requirements.txt
# python` to check our CBPE against NannyML's. Its dependencies conflict with the workspace
# lock, so it lives in uv's tool cache, not in .venv. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
# NannyML reports usage to a third party unless this is set.
export NML_DISABLE_USAGE_LOGGING=1
uvx --with-requirements ci/nannyml-requirements.txt python -c \
    'import nannyml; print("nannyml", nannyml.__version__)'
