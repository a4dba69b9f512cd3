"""`proyecto4`: the platform on one machine, on embedded defaults, with no cluster."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from proyecto4_common.database import shown_url
from proyecto4_common.names import ADMIN_TOKEN_ENV, ADMIN_TOKEN_FILE, PORTS
from rich.console import Console

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
pipeline_app = typer.Typer(
    help="The Airflow pipeline, run locally with the real DAG.", no_args_is_help=True
)
app.add_typer(pipeline_app, name="pipeline")
scenario_app = typer.Typer(help="Scenarios that show the platform at work.", no_args_is_help=True)
app.add_typer(scenario_app, name="scenario")
console = Console(stderr=True)


@app.callback()
def _main() -> None:
    # SIGTERM (a service manager, `timeout`, a test's teardown) unwinds like Ctrl-C, so the
    # servers a command started are stopped with it instead of outliving it.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)


def _exit_on_sigterm(signum: int, _frame) -> None:
    raise SystemExit(128 + signum)


DEFAULT_DEMO_UNTIL = date(2013, 3, 31)


def _credentials_env(settings) -> dict[str, str]:
    """The API's admin token for the API and UI processes; printed once, when generated."""
    from proyecto4.credentials import admin_token

    token, created = admin_token(settings.proyecto4_home)
    if created:
        console.print(
            f"[bold]inference API admin token[/bold] (shown once; kept in "
            f"{settings.proyecto4_home / ADMIN_TOKEN_FILE}):"
        )
        console.print(token, soft_wrap=True)
    return {ADMIN_TOKEN_ENV: token}


def _settings():
    from pipeline.settings import PipelineSettings

    return PipelineSettings()


def _parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date like 2013-03-31", param_hint=option
        ) from None


@contextlib.contextmanager
def _data_source_for(settings):
    """Starts the reference data source when the configured one is the local default and
    nothing answers there, so that `pipeline run` works on a fresh machine."""
    from proyecto4.processes import answers, background

    url = settings.data_source_url.rstrip("/")
    local_default = url == f"http://127.0.0.1:{PORTS['data-source']}"
    if answers(url + "/health") or not local_default:
        yield
        return
    console.print(f"[dim]starting the reference data source at {url}[/dim]")
    with background("data-source", PORTS["data-source"], settings):
        yield


@pipeline_app.command("run")
def pipeline_run(
    until: Annotated[str | None, typer.Option(help="Ingest up to this day (YYYY-MM-DD)")] = None,
    start: Annotated[
        str | None, typer.Option(help="Re-ingest from this day instead of the watermark")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Tuning processes sharing each objective's Optuna study in the data database "
            "(PostgreSQL only; default PIPELINE_TUNING_WORKERS)",
        ),
    ] = None,
) -> None:
    """Runs project_pipeline once with dag.test() and reports what it did."""
    from pipeline.study import SqliteWorkers, check_workers, storage_url

    from proyecto4 import local_airflow
    from proyecto4.report import pipeline_summary

    until_day, start_day = _parse_date(until, "--until"), _parse_date(start, "--start")
    settings = _settings()
    # dag.test() runs mapped tasks one after another: the workers are processes of one task.
    tuning = {"PIPELINE_TUNING_FANOUT": "processes"}
    if workers is not None:
        tuning["PIPELINE_TUNING_WORKERS"] = str(workers)
        settings = settings.model_copy(update={"tuning_workers": workers})
    try:
        check_workers(storage_url(settings), settings.tuning_workers)
    except SqliteWorkers as exc:
        raise typer.BadParameter(str(exc), param_hint="--workers") from None
    settings.ensure_home()
    console.print(f"[bold]proyecto4[/bold] home {settings.proyecto4_home}")
    console.print(
        f"data DB {shown_url(settings.data_db_url)}\nMLflow  {shown_url(settings.mlflow_tracking_uri)}"
    )
    began = datetime.now()
    with _data_source_for(settings):
        state = local_airflow.run_in_child(
            settings.proyecto4_home / "airflow", until_day, start_day, env=tuning
        )
    summary = pipeline_summary(settings)
    console.print(summary.render(state, datetime.now() - began))
    raise typer.Exit(0 if summary.production_version else 1)


@app.command()
def serve(
    component: Annotated[str, typer.Argument(help="api | ui | mlflow | data-source")],
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
    host: Annotated[str, typer.Option(help="Address to bind")] = "127.0.0.1",
) -> None:
    """Serves one component in the foreground until Ctrl-C."""
    from proyecto4.processes import HEALTH_PATHS, mlflow_auth, server_command, server_env

    if component not in HEALTH_PATHS:
        raise typer.BadParameter(f"choose one of {', '.join(HEALTH_PATHS)}", param_hint="COMPONENT")
    settings = _settings()
    settings.ensure_home()
    command = server_command(component, host, port or PORTS[component], settings)
    env = {**os.environ, **(_credentials_env(settings) if component in ("api", "ui") else {})}
    if component == "mlflow":
        auth = mlflow_auth(settings)
        _print_mlflow_credentials(auth)
        env.update(auth.server_env)
    console.print(f"serving {component} on http://{host}:{port or PORTS[component]}")
    with contextlib.suppress(KeyboardInterrupt):
        raise typer.Exit(subprocess.call(command, env={**env, **server_env(component)}))


def _print_mlflow_credentials(auth) -> None:
    """The generated MLflow users, shown in full only on the start that generated them."""
    if auth.created:
        users = auth.credentials
        console.print(
            "[bold]MLflow users[/bold] (basic-auth; generated once, shown only now):\n"
            + "".join(
                f"  {u.username:<9} {u.password}\n"
                for u in (users.admin, users.pipeline, users.reader)
            )
            + f"kept in {auth.credentials_file} (mode 600)"
        )
    else:
        console.print(f"MLflow users (basic-auth): {auth.credentials_file}")


@app.command()
def loadtest(
    host: Annotated[
        str | None, typer.Option(help="API base URL (default INFERENCE_API_URL)")
    ] = None,
    users: Annotated[int, typer.Option(help="Concurrent users")] = 10,
    spawn_rate: Annotated[float, typer.Option(help="Users started per second")] = 5,
    run_time: Annotated[str, typer.Option(help="Duration, e.g. 30s or 2m")] = "30s",
    workers: Annotated[int, typer.Option(help="Local Locust workers (0: one process)")] = 0,
    max_failure_ratio: Annotated[
        float, typer.Option(help="Fail above this share of failed requests")
    ] = 0.01,
    max_p95_ms: Annotated[
        float, typer.Option(help="Fail above this p95 latency (0: no limit)")
    ] = 0.0,
    report_dir: Annotated[Path, typer.Option(help="Where the CSV and HTML reports go")] = Path(
        "loadtest-report"
    ),
) -> None:
    """Load-tests the inference API with Locust (headless), prints the summary and fails
    when a threshold is broken."""
    import loadtest as locust_runner

    code = locust_runner.run(
        host=host or _settings().inference_api_url,
        users=users,
        spawn_rate=spawn_rate,
        run_time=run_time,
        workers=workers,
        max_failure_ratio=max_failure_ratio,
        max_p95_ms=max_p95_ms,
        report_dir=report_dir,
    )
    raise typer.Exit(code)


@app.command()
def replay(
    start: Annotated[str, typer.Option(help="First flight day, e.g. 2013-03-01")],
    end: Annotated[str, typer.Option(help="Last flight day")],
    rate: Annotated[
        float, typer.Option(help="Records per second (0: as fast as the API answers)")
    ] = 0.0,
    batch: Annotated[int, typer.Option(min=1, help="Records per request")] = 100,
    save: Annotated[
        Path | None,
        typer.Option(
            help="Write the keyed records as JSON Lines (Locust's --sample-file) instead of sending"
        ),
    ] = None,
) -> None:
    """Sends the real flights of a window, with their keys, to the inference API (from the
    data source, DATA_SOURCE_URL, to INFERENCE_API_URL); their outcomes, once the pipeline
    ingests those days, give the model's live quality."""
    import json

    from pipeline.replay import keyed_days
    from pipeline.replay import replay as run

    first, last = _parse_date(start, "--start"), _parse_date(end, "--end")
    if last < first:
        raise typer.BadParameter("must not be before --start", param_hint="--end")
    settings = _settings()
    with _data_source_for(settings):
        if save:
            written = 0
            with save.open("w") as out:
                for _, records in keyed_days(settings, first, last):
                    out.writelines(json.dumps(record) + "\n" for record in records)
                    written += len(records)
            console.print(f"{written} keyed records written to {save}")
            return
        report = run(
            settings,
            first,
            last,
            rate,
            batch,
            on_day=lambda day, n: console.print(f"{day}: {n} flights sent"),
        )
    console.print(
        f"{report.sent} records over {report.days} days in {report.seconds:.1f} s, "
        f"{report.failed} not answered 200"
    )
    raise typer.Exit(1 if report.failed else 0)


@scenario_app.command("decay")
def scenario_decay(
    home: Annotated[
        Path | None,
        typer.Option(help="Folder of the scenario's state (default PROYECTO4_HOME/scenario-decay)"),
    ] = None,
    start: Annotated[str, typer.Option(help="First day replayed")] = "2013-03-01",
    end: Annotated[str, typer.Option(help="Last day replayed")] = "2013-08-31",
    outcome_lag_days: Annotated[
        int, typer.Option(min=0, help="Days between a day's predictions and its outcomes")
    ] = 1,
    drift_trigger: Annotated[
        bool,
        typer.Option(help="Retrain on input drift too (off: live quality alone decides)"),
    ] = True,
) -> None:
    """Trains on January-February 2013, replays March-August day by day through the API
    with outcomes arriving behind the predictions, retrains when live quality decays or
    drift stays high (on_decay), promotes when better; prints the days, leaves a PNG plot."""
    from proyecto4.decay_scenario import run_decay_scenario

    first, last = _parse_date(start, "--start"), _parse_date(end, "--end")
    if last < first:
        raise typer.BadParameter("must not be before --start", param_hint="--end")
    home = home or _settings().proyecto4_home / "scenario-decay"
    console.print(f"[bold]scenario decay[/bold] in {home} (emptied first)")
    print(
        f"{'day':<10} {'labelled':>8} {'refused':>7} {'live AUROC [95 % interval]':>27} "
        f"{'estimated':>9} {'test':>6} {'band':>6} {'drift PSI':>9} {'model':>5} "
        f"{'retrains':>8} {'s':>4}  event",
        flush=True,
    )

    def show(row) -> None:
        def number(value, width, places=4):
            return f"{value:>{width}.{places}f}" if value is not None else f"{'-':>{width}}"

        live = (
            f"{row.live_auroc:.4f} [{row.live_low:.4f}, {row.live_high:.4f}]"
            if row.live_auroc is not None
            else "-"
        )
        print(
            f"{row.day.isoformat():<10} {row.labelled:>8} {row.refused:>7} {live:>27} "
            f"{number(row.estimated_auroc, 9)} {number(row.test_auroc, 6, 3)} "
            f"{number(row.band_low, 6, 3)} {number(row.drift_psi, 9, 2)} "
            f"{'v' + row.model_version:>5} {row.retrains:>8} {row.seconds:>4.0f}  {row.event}",
            flush=True,
        )

    result = run_decay_scenario(
        home,
        start=first,
        end=last,
        outcome_lag_days=outcome_lag_days,
        drift_trigger=drift_trigger,
        on_day=show,
        on_note=lambda text: console.print(f"[dim]{text}[/dim]"),
    )
    by_kind: dict[str, int] = {}
    for row in result.days:
        if row.event:
            kind = row.event.split("(")[1].split(")")[0]
            by_kind[kind] = by_kind.get(kind, 0) + 1
    console.print(
        f"{len(result.days)} days in {result.seconds / 60:.1f} min; retrains: "
        + (", ".join(f"{n} {k}" for k, n in sorted(by_kind.items())) or "none")
    )
    _print_summary(result.summary)
    console.print(f"table {result.table}\nplot  {result.plot}")


def _print_summary(summary) -> None:
    """The scenario's verdict on the figures the platform shows (decay_scenario.summarize)."""
    if summary is None:
        return
    from proyecto4.decay_scenario import SERVICE_DAYS

    print(
        f"each model's logged test AUROC against its first {SERVICE_DAYS} days of service (pooled):"
    )
    for m in summary.models:
        print(
            f"  v{m.version:<4} test {m.test_auroc:.4f}  live {m.live_auroc:.4f}  "
            f"gap {m.test_auroc - m.live_auroc:+.4f}  ({m.labelled} predictions, {m.days} days)"
        )
    if summary.mean_test_gap is not None:
        print(f"  mean absolute gap {summary.mean_test_gap:.4f}")
    print("weekly CBPE estimate against realized AUROC (per serving version):")
    for week, version, estimate, realized in summary.weekly_estimate_gaps:
        print(
            f"  {week} v{version:<4} estimated {estimate:.4f}  realized {realized:.4f}  "
            f"gap {estimate - realized:+.4f}"
        )
    if summary.median_estimate_gap is not None:
        print(f"  median absolute gap {summary.median_estimate_gap:.4f}")
    print(
        "monthly live AUROC (pooled): "
        + ", ".join(f"{month} {value:.4f}" for month, value in summary.monthly_live.items())
    )
    if summary.mean_monthly_live is not None:
        print(f"  mean {summary.mean_monthly_live:.4f}")


@app.command()
def demo(
    until: Annotated[
        str, typer.Option(help="Last day the pipeline ingests")
    ] = DEFAULT_DEMO_UNTIL.isoformat(),
) -> None:
    """Runs the whole platform locally: data source, MLflow, pipeline, API and UI."""
    from proyecto4.processes import background, mlflow_auth

    settings = _settings()
    settings.ensure_home()
    mlflow_url = f"http://127.0.0.1:{PORTS['mlflow']}"
    env = {
        "MLFLOW_TRACKING_URI": mlflow_url,
        "DATA_SOURCE_URL": f"http://127.0.0.1:{PORTS['data-source']}",
    }
    # MLflow runs with basic-auth, as in the cluster: the pipeline writes as `pipeline`, the
    # API and the UI read as `reader`.
    auth = mlflow_auth(settings)
    _print_mlflow_credentials(auth)
    env_of = {
        "data-source": env,
        "mlflow": {**env, **auth.server_env},
        "pipeline": {**env, **auth.credentials.pipeline.tracking_env()},
        "api": {**env, **auth.credentials.reader.tracking_env()},
        "ui": {**env, **auth.credentials.reader.tracking_env()},
    }
    with contextlib.ExitStack() as stack:
        try:
            for name in ("data-source", "mlflow"):
                stack.enter_context(background(name, PORTS[name], settings, env_of[name]))
                console.print(f"[green]up[/green] {name}")
            code = subprocess.call(
                [sys.executable, "-m", "proyecto4.cli", "pipeline", "run", "--until", until],
                env={**os.environ, **env_of["pipeline"]},
            )
            if code != 0:
                console.print("[red]the pipeline did not put a model in production[/red]")
                raise typer.Exit(code)
            credentials = _credentials_env(settings)
            for name in ("api", "ui"):
                stack.enter_context(
                    background(name, PORTS[name], settings, {**env_of[name], **credentials})
                )
                console.print(f"[green]up[/green] {name}")
        except RuntimeError as error:
            console.print(f"[red]{error}[/red]")
            raise typer.Exit(1) from error
        console.print(
            "\n[bold]proyecto4 is running[/bold]\n"
            f"  MLflow UI       {mlflow_url} (users: {auth.credentials_file})\n"
            f"  Streamlit UI    http://127.0.0.1:{PORTS['ui']}\n"
            f"  Inference API   http://127.0.0.1:{PORTS['api']}/docs\n"
            f"  Data source     http://127.0.0.1:{PORTS['data-source']}/metadata\n"
            f"  logs            {settings.proyecto4_home / 'logs'}\n"
            f"  API admin token {settings.proyecto4_home / ADMIN_TOKEN_FILE}\n"
            "Ctrl-C stops everything."
        )
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == "__main__":
    app()
