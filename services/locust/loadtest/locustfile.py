"""Load test of the inference API: `locust -f loadtest/locustfile.py`.

Users post one record, a list of records, or now and then a body the API must refuse
(a 4xx answer is the expected outcome there). Records follow the served model's feature
spec, read once per process from `GET /model` at test start, or replay real rows from
`--sample-file`. At the end the master (or the single local process) prints a summary
and exits non-zero when a limit (`--max-failure-ratio`, `--max-p95-ms`) is broken.

Every option also reads its LOCUST_* environment variable (locust's own convention).
"""

from __future__ import annotations

import logging
import os

from locust import HttpUser, between, events, task
from locust.runners import MasterRunner, WorkerRunner
from proyecto4_common.feature_spec import FeatureSpec
from proyecto4_common.http_auth import bearer
from proyecto4_common.names import API_KEY_ENV, PREDICT_PATH
from proyecto4_common.settings import CommonSettings

from loadtest.model_spec import SpecUnavailable, fetch_feature_spec
from loadtest.payloads import RecordGenerator, load_sample_rows
from loadtest.thresholds import Limits, Totals

logger = logging.getLogger("loadtest")

# An API that requires keys on /predict/ gets one from INFERENCE_API_KEY.
HEADERS = bearer(os.environ.get(API_KEY_ENV, "").strip()) or None


@events.init_command_line_parser.add_listener
def add_options(parser):
    parser.add_argument(
        "--batch-size",
        type=int,
        default=50,
        env_var="LOCUST_BATCH_SIZE",
        help="Records in one list request",
    )
    parser.add_argument(
        "--sample-file",
        default="",
        env_var="LOCUST_SAMPLE_FILE",
        help="Real rows to replay (JSON list, data-source answer or JSON Lines) "
        "instead of records drawn from the feature spec",
    )
    parser.add_argument(
        "--spec-wait",
        type=float,
        default=60.0,
        env_var="LOCUST_SPEC_WAIT",
        help="Seconds to wait for GET /model to describe a loaded model",
    )
    parser.add_argument(
        "--max-failure-ratio",
        type=float,
        default=0.01,
        env_var="LOCUST_MAX_FAILURE_RATIO",
        help="Exit non-zero when failures / requests is above this (negative: no limit)",
    )
    parser.add_argument(
        "--max-p95-ms",
        type=float,
        default=0.0,
        env_var="LOCUST_MAX_P95_MS",
        help="Exit non-zero when the overall p95 is above this many ms (0: no limit)",
    )


@events.init.add_listener
def default_host(environment, **_):
    # Without --host, the API the rest of the platform talks to (INFERENCE_API_URL).
    if not environment.host and not isinstance(environment.runner, WorkerRunner):
        environment.host = CommonSettings().inference_api_url


@events.init.add_listener
def wait_for_model(environment, **_):
    # Locust's --run-time clock starts before test_start: wait for the API here, so a
    # gate started with the deployment does not spend its run waiting.
    options = environment.parsed_options
    if options and options.headless and not isinstance(environment.runner, WorkerRunner):
        _served_spec(environment.host, options.spec_wait)


@events.test_start.add_listener
def prepare_records(environment, **_):
    if isinstance(environment.runner, MasterRunner):
        return  # the master sends no requests
    options = environment.parsed_options
    spec = _served_spec(environment.host, options.spec_wait)
    if isinstance(spec, SpecUnavailable):
        PredictUser.records = None
        return
    rows = load_sample_rows(options.sample_file) if options.sample_file else None
    PredictUser.records = RecordGenerator(spec, sample_rows=rows)
    PredictUser.batch_size = options.batch_size
    logger.info(
        "payloads from %s for %s", options.sample_file or "the feature spec", spec.model_name
    )


@events.test_stop.add_listener
def forget_spec(**_):
    # The next run (web UI) may meet another model.
    _spec_by_host.clear()


_spec_by_host: dict[str, FeatureSpec | SpecUnavailable] = {}


def _served_spec(host: str, wait_s: float) -> FeatureSpec | SpecUnavailable:
    """The spec of the model `host` serves, asked once per process and run."""
    if host not in _spec_by_host:
        try:
            _spec_by_host[host] = fetch_feature_spec(host, wait_s=wait_s)
        except SpecUnavailable as exc:
            logger.error("cannot build payloads: %s", exc)
            _spec_by_host[host] = exc
    return _spec_by_host[host]


@events.quitting.add_listener
def judge_run(environment, **_):
    if isinstance(environment.runner, WorkerRunner):
        return  # the master judges the aggregated figures
    options = environment.parsed_options
    total = environment.stats.total
    totals = Totals(
        requests=total.num_requests,
        failures=total.num_failures,
        requests_per_s=total.total_rps,
        p50_ms=total.get_response_time_percentile(0.5),
        p95_ms=total.get_response_time_percentile(0.95),
        p99_ms=total.get_response_time_percentile(0.99),
    )
    limits = Limits(
        max_failure_ratio=options.max_failure_ratio if options.max_failure_ratio >= 0 else None,
        max_p95_ms=options.max_p95_ms or None,
    )
    broken = limits.broken(totals)
    print(f"load test summary: {totals.summary()}", flush=True)
    for reason in broken:
        print(f"load test threshold broken: {reason}", flush=True)
    environment.process_exit_code = 1 if broken else 0


class PredictUser(HttpUser):
    wait_time = between(0.1, 0.5)
    # Set at test start, once per process (see prepare_records).
    records: RecordGenerator | None = None
    batch_size = 50

    def on_start(self):
        if self.records is None:
            self.environment.events.request.fire(
                request_type="GET",
                name="/model",
                response_time=0,
                response_length=0,
                exception=SpecUnavailable("no feature spec to build payloads: see the log"),
                context={},
            )
            self.stop()  # graceful: the user leaves before its first task

    @task(10)
    def predict_one(self):
        self._post("predict one", self.records.record(), _one_prediction)

    @task(3)
    def predict_list(self):
        body = self.records.records(self.batch_size)
        self._post("predict list", body, lambda r: _predictions(r, len(body)))

    @task(1)
    def predict_invalid(self):
        self._post("predict invalid", self.records.invalid(), _refused)

    def _post(self, name, body, problem):
        """One request, failed with the sentence `problem(response)` returns, if any."""
        with self.client.post(
            PREDICT_PATH, json=body, name=name, headers=HEADERS, catch_response=True
        ) as response:
            reason = problem(response)
            if reason:
                response.failure(reason)
            else:
                response.success()


def _answer(response) -> dict | None:
    if response.status_code != 200:
        return None
    try:
        answer = response.json()
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


def _one_prediction(response) -> str | None:
    answer = _answer(response)
    if answer is None or answer.get("prediction") not in (0, 1):
        return f"expected one prediction, got {response.status_code}: {response.text[:200]}"
    return None


def _predictions(response, expected: int) -> str | None:
    answer = _answer(response)
    if answer is None or len(answer.get("predictions") or []) != expected:
        return f"expected {expected} predictions, got {response.status_code}: {response.text[:200]}"
    return None


def _refused(response) -> str | None:
    if 400 <= response.status_code < 500:
        return None
    return f"expected a 4xx for an invalid body, got {response.status_code}"
