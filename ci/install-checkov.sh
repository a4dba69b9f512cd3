#!/usr/bin/env bash
# Cache checkov (pinned) for the chart tests, which run it offline with
# `uvx --offline --from checkov==3.3.30 checkov`. checkov's dependencies conflict with the
# workspace lock, so it lives in uv's tool cache, not in .venv. Idempotent.
set -euo pipefail
uvx --from checkov==3.3.30 checkov --version
