"""`proyecto4 scenario decay`: the closed loop, day by day, on the embedded defaults.

A model is trained on January-February 2013; then every day of March-August is served
to the real inference API as production traffic (the day's flights with their keys), and
the next day the pipeline ingests that day's outcomes, measures live quality, decides
whether to retrain (on_decay: live AUROC decayed or input drift stayed high), trains and
promotes when the candidate beats production, and the API swaps the new version in.

The pipeline's tasks run in this process (pipeline.steps), not through Airflow: 184 runs
of dag.test() would spend most of the scenario starting Airflow. Everything else is what
`make demo` runs: SQLite data DB and MLflow store in a folder of their own, the reference
data source and the inference API as processes on free ports.
"""

from __future__ import annotations

import contextlib
import csv
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx

TRAIN_START, TRAIN_END = date(2013, 1, 1), date(2013, 2, 28)
REPLAY_START, REPLAY_END = date(2013, 3, 1), date(2013, 8, 31)
# A budget that keeps each retraining near a minute on two cores; the scenario is about
# when the loop retrains, not about squeezing the last point of AUROC.
CHEAP_TUNING = {
    "optuna_trials": 4,
    "optuna_timeout_s": 15.0,
    "optuna_small_update_trials": 3,
    "lightgbm_max_rounds": 300,
    "shap_sample_rows": 200,
}


@dataclass
class ScenarioDay:
    day: date  # the flights' day whose outcomes arrived
    labelled: int  # its served predictions that found an outcome
    refused: int  # its flights the serving model could not take (unseen category, null)
    live_auroc: float | None
    live_low: float | None  # its 95 % interval
    live_high: float | None
    estimated_auroc: float | None  # CBPE, from the day's probabilities alone
    test_auroc: float | None  # forward test AUROC of the version that served that day
    band_low: float | None  # its backtest band's lower edge: the decay threshold
    served_by: str  # version(s) that served that day's predictions
    drift_psi: float | None  # input drift of the production model after ingesting the day
    drift_feature: str | None
    model_version: str  # in service at the end of the day
    retrains: int  # so far
    event: str = ""
    seconds: float = 0.0  # the day's serving and pipeline run


@dataclass
class ScenarioResult:
    days: list[ScenarioDay] = field(default_factory=list)
    seconds: float = 0.0
    plot: Path | None = None
    table: Path | None = None
    initial_version: str = ""
    summary: Summary | None = None


@dataclass
class ModelGap:
    version: str
    test_auroc: float
    live_auroc: float  # pooled over its first `days` days of service
    labelled: int
    days: int


@dataclass
class Summary:
    """How far the figures the platform logs are from what production got."""

    models: list[ModelGap]
    # Mean |logged test AUROC - live AUROC over the 30 days after it began serving|.
    mean_test_gap: float | None
    # Per week (and serving version): |CBPE estimate - realized AUROC|, pooled.
    weekly_estimate_gaps: list[tuple[str, str, float, float]]
    median_estimate_gap: float | None
    # Pooled live AUROC per month, and their mean.
    monthly_live: dict[str, float]
    mean_monthly_live: float | None


def scenario_settings(home: Path, **overrides):
    """Pipeline settings of the scenario: its own SQLite data DB and MLflow store under
    `home`, the on_decay policy and a cheap tuning budget (overrides win), the rest default."""
    from pipeline.settings import PipelineSettings

    values = {
        "proyecto4_home": home,
        "data_db_url": f"sqlite:///{home / 'data.db'}",
        "mlflow_tracking_uri": f"sqlite:///{home / 'mlflow.db'}",
        "retrain_policy": "on_decay",
        # The quality, drift and retraining settings are the defaults: their thresholds come
        # from each model's own backtest and reference, not from numbers tuned to this data.
        **CHEAP_TUNING,
        **overrides,
    }
    return PipelineSettings(**values)


@contextlib.contextmanager
def _servers(settings, admin_token: str) -> Iterator[tuple[str, str]]:
    """The reference data source and the inference API on free ports; yields their URLs.
    The API reads the scenario's data DB and MLflow store."""
    from proyecto4_common.names import ADMIN_TOKEN_ENV
    from proyecto4_common.net import free_port

    from proyecto4.processes import HEALTH_PATHS, running, server_command, server_env

    logs = settings.proyecto4_home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = {
        "DATA_DB_URL": settings.data_db_url,
        "MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri,
        "PROYECTO4_HOME": str(settings.proyecto4_home),
        ADMIN_TOKEN_ENV: admin_token,
        # The scenario swaps models with /load_model/ itself, and wants the gauges fresh.
        "INFERENCE_API_WATCH_INTERVAL_S": "0",
        "INFERENCE_API_QUALITY_REFRESH_S": "5",
    }
    urls = {}
    with contextlib.ExitStack() as stack:
        for name in ("data-source", "api"):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            stack.enter_context(
                running(
                    server_command(name, "127.0.0.1", port, settings),
                    url + HEALTH_PATHS[name],
                    server_env(name, env),
                    logs / f"{name}.log",
                )
            )
            urls[name] = url
        yield urls["data-source"], urls["api"]


def _load_production(api: httpx.Client, admin_token: str):
    """Asks the API to swap in `production`; returns the version it serves and its spec."""
    from proyecto4_common.feature_spec import FeatureSpec
    from proyecto4_common.http_auth import bearer
    from proyecto4_common.names import LOAD_MODEL_PATH

    response = api.post(LOAD_MODEL_PATH, headers=bearer(admin_token))
    response.raise_for_status()
    served = api.get("/model").json()
    return str(served["model_version"]), FeatureSpec.model_validate(served["feature_spec"])


def _send(api: httpx.Client, records: list[dict], batch: int = 1000) -> None:
    from proyecto4_common.names import PREDICT_PATH

    for i in range(0, len(records), batch):
        response = api.post(PREDICT_PATH, json=records[i : i + batch])
        if response.status_code != 200:
            raise RuntimeError(f"/predict/ answered {response.status_code}: {response.text[:300]}")


def _quality_of(settings, day: date) -> dict:
    """The day's live quality as model_quality recorded it, pooled over the versions that
    served it: labelled count, AUROC with its interval, the CBPE estimate, the serving
    version's test AUROC and band, and who served it."""
    from pipeline.db import make_engine
    from proyecto4_common.estimation import auroc_interval
    from proyecto4_common.tables import model_quality
    from sqlalchemy import select

    with make_engine(settings.data_db_url).connect() as conn:
        rows = conn.execute(select(model_quality).where(model_quality.c.day == day)).all()
    rows = [r._mapping for r in rows]
    scored = [r for r in rows if r["auroc"] is not None]
    count = sum(r["count"] for r in scored)

    def pooled(column: str) -> float | None:
        known = [r for r in scored if r[column] is not None]
        weight = sum(r["count"] for r in known)
        return sum(r[column] * r["count"] for r in known) / weight if weight else None

    auroc = pooled("auroc")
    delayed = sum(r["delayed"] for r in scored)
    low, high = (
        auroc_interval(auroc, delayed, count - delayed) if auroc is not None else (None, None)
    )
    return {
        "labelled": sum(r["count"] for r in rows),
        "live_auroc": auroc,
        "live_low": low,
        "live_high": high,
        "estimated_auroc": pooled("estimated_auroc"),
        "test_auroc": pooled("test_auroc"),
        "band_low": pooled("backtest_auroc_low"),
        "served_by": "+".join(sorted({f"v{r['model_version']}" for r in rows})),
    }


def run_decay_scenario(
    home: Path,
    start: date = REPLAY_START,
    end: date = REPLAY_END,
    outcome_lag_days: int = 1,
    on_day: Callable[[ScenarioDay], None] | None = None,
    on_note: Callable[[str], None] | None = None,
    **overrides,
) -> ScenarioResult:
    """Runs the scenario from scratch in `home` (emptied first)."""
    from pipeline.replay import keyed_days, servable
    from pipeline.steps import run_pipeline_once

    note = on_note or (lambda _text: None)
    began = time.monotonic()
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    admin_token = secrets.token_urlsafe(24)
    result = ScenarioResult()
    base = scenario_settings(home, **overrides)
    with _servers(base, admin_token) as (source_url, api_url):
        settings = base.model_copy(
            update={"data_source_url": source_url, "inference_api_url": api_url}
        )
        note(f"training on {TRAIN_START} .. {TRAIN_END}")
        trained = time.monotonic()
        first = run_pipeline_once(settings, start=TRAIN_START, until=TRAIN_END)
        if not (first.decision and first.decision["promoted"]):
            raise RuntimeError(f"the first model was not promoted: {first.trigger.reason}")
        with httpx.Client(base_url=api_url, timeout=120) as api:
            serving, spec = _load_production(api, admin_token)
            result.initial_version = serving
            note(
                f"v{serving} in service (test AUROC "
                f"{first.decision['candidate_value']:.4f}) after "
                f"{time.monotonic() - trained:.0f} s; replaying {start} .. {end}"
            )
            retrains = 0
            refused: dict[date, int] = {}
            day = start
            while day <= end + timedelta(days=outcome_lag_days):
                day_began = time.monotonic()
                if day <= end:
                    [(_, records)] = list(keyed_days(settings, day, day))
                    records, refused[day] = servable(records, spec)
                    _send(api, records)
                outcome_day = day - timedelta(days=outcome_lag_days)
                if outcome_day >= start:
                    run = run_pipeline_once(settings, until=outcome_day)
                    event = ""
                    if run.trigger.retrain:
                        retrains += 1
                        decision = run.decision
                        verdict = "promoted" if decision["promoted"] else "kept out"
                        previous = decision["previous_value"]
                        event = (
                            f"retrain ({run.trigger.kind}): v{decision['candidate_version']} "
                            f"{verdict}, {decision['metric']} {decision['candidate_value']:.4f} "
                            f"vs {'none' if previous is None else f'{previous:.4f}'}"
                            + _difference(decision)
                            + f" [trigger: {run.trigger.reason}]"
                        )
                        if decision["promoted"]:
                            serving, spec = _load_production(api, admin_token)
                            if serving != decision["candidate_version"]:
                                raise RuntimeError(
                                    f"the API serves v{serving}, not the promoted "
                                    f"v{decision['candidate_version']}"
                                )
                    drift = run.trigger.drift[-1] if run.trigger.drift else None
                    row = ScenarioDay(
                        day=outcome_day,
                        refused=refused.get(outcome_day, 0),
                        **_quality_of(settings, outcome_day),
                        drift_psi=drift.psi if drift else None,
                        drift_feature=drift.feature if drift else None,
                        model_version=serving,
                        retrains=retrains,
                        event=event,
                        seconds=time.monotonic() - day_began,
                    )
                    result.days.append(row)
                    if on_day:
                        on_day(row)
                day += timedelta(days=1)
        result.summary = summarize(settings, result)
    result.seconds = time.monotonic() - began
    result.table = write_table(result, home / "decay-scenario.csv")
    result.plot = plot(result, base, home / "decay-scenario.png")
    return result


def _difference(decision: dict) -> str:
    if decision.get("difference") is None:
        return ""
    return (
        f" (difference {decision['difference']:+.4f}, 95 % interval "
        f"[{decision['difference_low']:+.4f}, {decision['difference_high']:+.4f}] over "
        f"{decision['comparison_rows']} rows)"
    )


# The yardstick: a model's logged test AUROC against its first month of service.
SERVICE_DAYS = 30


def summarize(settings, result: ScenarioResult) -> Summary:
    """The gaps between what the platform logged or estimated and what production got,
    from every labelled prediction of the scenario (pooled, not averaged over days)."""
    import numpy as np
    import pandas as pd
    from pipeline.db import make_engine
    from pipeline.quality import facts_from_registry, labelled_predictions
    from proyecto4_common.estimation import estimated_auroc
    from proyecto4_common.names import MODEL_NAME
    from sklearn.metrics import roc_auc_score

    days = [d.day for d in result.days]
    if not days:
        return Summary([], None, [], None, {}, None)
    rows = labelled_predictions(make_engine(settings.data_db_url), settings.pipeline_group, days)
    rows["flight_date"] = pd.to_datetime(rows["flight_date"])
    facts = facts_from_registry(settings)

    def auroc(part) -> float | None:
        return (
            float(roc_auc_score(part["label"], part["probability"]))
            if part["label"].nunique() == 2
            else None
        )

    models = []
    for version, part in rows.groupby("model_version"):
        first = part["flight_date"].min()
        served = part[part["flight_date"] < first + np.timedelta64(SERVICE_DAYS, "D")]
        test = facts(MODEL_NAME, version).test_auroc
        live = auroc(served)
        if test is not None and live is not None:
            models.append(
                ModelGap(version, test, live, len(served), int(served["flight_date"].nunique()))
            )
    weekly = []
    rows["week"] = rows["flight_date"].dt.strftime("%G-W%V")
    for (week, version), part in rows.groupby(["week", "model_version"]):
        spec = facts(MODEL_NAME, version).spec
        probability = part["probability"].to_numpy()
        estimate = estimated_auroc(spec.calibrated(probability) if spec else probability)
        realized = auroc(part)
        if estimate is not None and realized is not None and len(part) >= 1000:
            weekly.append((week, version, estimate, realized))
    monthly = {}
    for month, part in rows.groupby(rows["flight_date"].dt.strftime("%Y-%m")):
        value = auroc(part)
        if value is not None:
            monthly[month] = value
    gaps = [abs(m.test_auroc - m.live_auroc) for m in models]
    estimate_gaps = [abs(e - r) for _, _, e, r in weekly]
    return Summary(
        models,
        float(np.mean(gaps)) if gaps else None,
        weekly,
        float(np.median(estimate_gaps)) if estimate_gaps else None,
        monthly,
        float(np.mean(list(monthly.values()))) if monthly else None,
    )


def write_table(result: ScenarioResult, path: Path) -> Path:
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(asdict(result.days[0])))
        writer.writeheader()
        writer.writerows(asdict(d) for d in result.days)
    return path


def plot(result: ScenarioResult, settings, path: Path) -> Path:
    """Live AUROC per day (and its 7-day mean) against time, the serving version's test
    AUROC, the retrain points (filled: promoted), and input drift below."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    frame = pd.DataFrame([asdict(d) for d in result.days])
    frame["day"] = pd.to_datetime(frame["day"])
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(12, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    top.plot(frame["day"], frame["live_auroc"], color="#9bb7d4", lw=1, label="live AUROC (day)")
    top.plot(
        frame["day"],
        frame["live_auroc"].rolling(7, min_periods=1).mean(),
        color="#1f4e79",
        lw=2,
        label="live AUROC (7-day mean)",
    )
    top.fill_between(
        frame["day"],
        frame["live_low"].astype(float),
        frame["live_high"].astype(float),
        color="#9bb7d4",
        alpha=0.25,
        label="live AUROC 95 % interval (day)",
    )
    top.plot(
        frame["day"],
        frame["estimated_auroc"].astype(float).rolling(7, min_periods=1).mean(),
        color="#2e8b57",
        lw=1.5,
        ls="-.",
        label="estimated AUROC before outcomes (CBPE, 7-day mean)",
    )
    top.step(
        frame["day"],
        frame["test_auroc"],
        where="post",
        color="gray",
        ls="--",
        label="forward test AUROC of the serving version",
    )
    top.step(
        frame["day"],
        frame["band_low"],
        where="post",
        color="#c0504d",
        ls=":",
        label=f"decay threshold (backtest mean - {settings.quality_band_k:g} sd)",
    )
    colors = {"quality_decayed": "#c0504d", "drift_high": "#e69f00"}
    for _, row in frame[frame["event"] != ""].iterrows():
        kind = row["event"].split("(")[1].split(")")[0]
        promoted = "promoted" in row["event"]
        top.scatter(
            row["day"],
            row["live_auroc"],
            s=120,
            zorder=5,
            marker="v",
            color=colors.get(kind, "black") if promoted else "white",
            edgecolors=colors.get(kind, "black"),
            linewidths=2,
        )
        top.axvline(row["day"], color=colors.get(kind, "black"), alpha=0.3, lw=1)
    for kind, color in colors.items():
        top.scatter(
            [], [], marker="v", s=80, color=color, label=f"retrain: {kind} (hollow: kept out)"
        )
    top.set_ylabel("AUROC")
    top.set_title(
        "proyecto4 scenario decay: live AUROC of the served model, trained on Jan-Feb 2013"
    )
    top.legend(loc="lower left", fontsize=8)
    top.grid(alpha=0.3)
    bottom.plot(frame["day"], frame["drift_psi"], color="#e69f00", lw=1.5, label="input drift PSI")
    bottom.set_ylabel("max PSI")
    bottom.legend(loc="upper left", fontsize=8)
    bottom.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
