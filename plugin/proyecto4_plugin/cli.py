"""Command line of `helm proyecto4`: argument parsing and the one-line error contract."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack

import httpx

from proyecto4_plugin import backup, loadtest, promotion, smoke, status
from proyecto4_plugin.endpoints import Endpoints, Targets
from proyecto4_plugin.errors import PluginError
from proyecto4_plugin.inference_api import InferenceApi
from proyecto4_plugin.names import MODEL_NAME, PRODUCTION_ALIAS
from proyecto4_plugin.registry import Registry
from proyecto4_plugin.stores import Stores

EPILOG = """\
Cluster mode (default): the release's services are reached with kubectl port-forward in
the namespace and kube context Helm passes on (-n/--namespace, --kube-context,
--kubeconfig). URL mode: --api-url and --mlflow-url (and --airflow-url for the DAG run)
reach running services directly, e.g. those of `make demo`.
"""


class OneLineErrorParser(argparse.ArgumentParser):
    """Usage mistakes are one line too (`--help` still shows the full usage)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _duration(text: str) -> str:
    try:
        loadtest.duration_seconds(text)
    except PluginError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def build_parser() -> argparse.ArgumentParser:
    common = OneLineErrorParser(add_help=False)
    common.add_argument("release", nargs="?", metavar="RELEASE", help="the Helm release")
    urls = common.add_argument_group("URL mode")
    urls.add_argument("--api-url", help="inference API base URL, e.g. http://127.0.0.1:8989")
    urls.add_argument("--mlflow-url", help="MLflow tracking server URL, e.g. http://127.0.0.1:5000")
    urls.add_argument("--airflow-url", help="Airflow API server URL (status: last DAG run)")
    common.add_argument(
        "--model-name", default=MODEL_NAME, help=f"registered model (default {MODEL_NAME})"
    )
    common.add_argument(
        "--timeout", type=float, default=30.0, help="seconds to wait for each HTTP answer"
    )

    parser = OneLineErrorParser(
        prog="helm proyecto4",
        description="Operate a proyecto4 release.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    status_cmd = commands.add_parser(
        "status", parents=[common], help="components ready, production model, last DAG run, API"
    )
    status_cmd.add_argument(
        "--rate-window",
        type=float,
        default=5.0,
        help="seconds between the two /metrics scrapes that give the request rate (0: total only)",
    )
    promote_cmd = commands.add_parser(
        "promote",
        parents=[common],
        help=f"point {PRODUCTION_ALIAS} at a version, reload the API, check it serves it",
    )
    promote_cmd.add_argument("--version", required=True, help=f"{MODEL_NAME} version to promote")
    commands.add_parser(
        "rollback",
        parents=[common],
        help=f"move {PRODUCTION_ALIAS} back to the previous production version",
    )
    commands.add_parser(
        "smoke", parents=[common], help="one prediction end to end and the API's metrics present"
    )
    load_cmd = commands.add_parser(
        "loadtest", parents=[common], help="run Locust headless against the API, print its summary"
    )
    load_cmd.add_argument("--users", type=_positive_int, default=10)
    load_cmd.add_argument("--spawn-rate", type=float, default=5.0, help="users started per second")
    load_cmd.add_argument("--duration", type=_duration, default="30s", help="e.g. 30s, 5m, 1h30m")
    load_cmd.add_argument("--locustfile", help="URL mode: the locustfile to run locally")

    stores = OneLineErrorParser(add_help=False)
    store_urls = stores.add_argument_group(
        "URL mode of backup/restore (any of these: the stores are reached from here)"
    )
    store_urls.add_argument("--data-db-url", help="the data database, postgresql://user:pw@host/db")
    store_urls.add_argument("--airflow-db-url", help="Airflow's metadata database (PostgreSQL)")
    store_urls.add_argument("--mlflow-db-url", help="MLflow's store, mysql://user:pw@host/db")
    store_urls.add_argument("--artifacts-url", help="MLflow's artifacts, s3://bucket/prefix")
    store_urls.add_argument(
        "--s3-endpoint-url",
        help="S3 API of the artifacts and of s3:// backup locations (default: AWS; "
        "credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)",
    )
    store_urls.add_argument(
        "--job-timeout",
        type=float,
        default=3600.0,
        help="cluster mode: seconds to wait for the Job",
    )
    backup_cmd = commands.add_parser(
        "backup",
        parents=[common, stores],
        help="back up PostgreSQL, MySQL and the artifacts now (cluster: a Job from the backup CronJob)",
    )
    backup_cmd.add_argument("--to", help="URL mode: a folder or s3://bucket/prefix for the backup")
    restore_cmd = commands.add_parser(
        "restore",
        parents=[common, stores],
        help="stop the writers, restore the three stores from a backup, start them, check",
    )
    restore_cmd.add_argument(
        "--from",
        dest="source",
        required=True,
        help="cluster mode: a backup id (e.g. 20260102T030405Z) or latest; "
        "URL mode: LOCATION/ID (a folder or s3://bucket/prefix/ID)",
    )
    return parser


def _promote(endpoints: Endpoints, version: str, decision: str, *, rollback: bool, out) -> int:
    registry = Registry(endpoints.mlflow(), endpoints.targets.model_name)
    # Reached (with the admin token) before the alias moves: a missing token must not leave
    # production moved and the API serving the old version.
    replicas = endpoints.api_replicas()
    previous = promotion.move_production(registry, version, decision, rollback=rollback)
    print(f"{registry.model_name}@{PRODUCTION_ALIAS}: v{previous or '-'} -> v{version}", file=out)
    for line in promotion.reload_and_check(replicas, version):
        print(line, file=out)
    return 0


def _backup_or_restore(args: argparse.Namespace, endpoints: Endpoints, out) -> int:
    stores = Stores.from_urls(
        data=args.data_db_url,
        airflow=args.airflow_db_url,
        mlflow=args.mlflow_db_url,
        artifacts=args.artifacts_url,
        endpoint=args.s3_endpoint_url,
    )
    if args.command == "backup":
        if stores.given():
            return backup.backup_urls(stores, args.to, args.s3_endpoint_url, out)
        return backup.backup_in_cluster(endpoints, args.job_timeout, out)
    if stores.given():
        return backup.restore_urls(stores, args.source, endpoints, args.s3_endpoint_url, out)
    return backup.restore_in_cluster(endpoints, args.source, args.job_timeout, out)


def dispatch(args: argparse.Namespace, endpoints: Endpoints, out) -> int:
    if args.command in ("backup", "restore"):
        return _backup_or_restore(args, endpoints, out)
    if args.command == "status":
        return status.run(endpoints, rate_window=args.rate_window, out=out)
    if args.command == "promote":
        return _promote(
            endpoints, args.version, f"manual promotion of v{args.version}", rollback=False, out=out
        )
    if args.command == "rollback":
        registry = Registry(endpoints.mlflow(), endpoints.targets.model_name)
        current = registry.production()
        if current is None:
            raise PluginError(
                f"{registry.model_name} has no {PRODUCTION_ALIAS} version to roll back"
            )
        target = promotion.rollback_target(registry, current)
        decision = f"rollback from v{current['version']} to v{target}"
        return _promote(endpoints, target, decision, rollback=True, out=out)
    if args.command == "smoke":
        return smoke.run(InferenceApi(endpoints.api()), out=out)
    if endpoints.targets.api_url:
        return loadtest.run_locally(
            args.api_url, args.locustfile, args.users, args.spawn_rate, args.duration, out
        )
    return loadtest.run_in_cluster(endpoints, args.users, args.spawn_rate, args.duration, out)


def main(argv: list[str] | None = None, out=None) -> int:
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    targets = Targets(
        release=args.release,
        api_url=args.api_url,
        mlflow_url=args.mlflow_url,
        airflow_url=args.airflow_url,
        model_name=args.model_name,
        timeout=args.timeout,
    )
    try:
        with ExitStack() as stack:
            return dispatch(args, Endpoints(targets, stack), out)
    except PluginError as exc:
        print(f"helm proyecto4 {args.command}: {exc}", file=sys.stderr)
        return 1
    except httpx.HTTPError as exc:  # a failure outside Service.call, e.g. a bad URL
        print(f"helm proyecto4 {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
