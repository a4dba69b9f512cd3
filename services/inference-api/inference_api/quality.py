"""Live quality as Prometheus gauges, read from the tables the pipeline writes.

The pipeline's measure_live_quality step records model_quality; the API is already scraped,
so it re-reads the table every `quality_refresh_s` (off the event loop) and /metrics reports
the newest recorded day per model version (live AUROC with its 95 % interval), next to each
version's test AUROC and backtest band, and the retraining runs of the promotion ledger by
trigger kind.
"""

from __future__ import annotations

import asyncio
import logging

import sqlalchemy as sa
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from proyecto4_common import names
from proyecto4_common.database import create_database_engine
from proyecto4_common.tables import model_quality, promotion_ledger

from inference_api.inference_log import CONNECT_TIMEOUT_S

log = logging.getLogger(__name__)

# Gauge name -> model_quality column, help text.
GAUGES = {
    names.MODEL_LIVE_AUROC: ("auroc", "Live AUROC of the newest day with outcomes"),
    names.MODEL_LIVE_ACCURACY: ("accuracy", "Live accuracy of the newest day with outcomes"),
    names.MODEL_LIVE_LOG_LOSS: ("log_loss", "Live log loss of the newest day with outcomes"),
    names.MODEL_LIVE_CALIBRATION_ERROR: (
        "calibration_error",
        "Live expected calibration error of the newest day with outcomes",
    ),
    names.MODEL_LIVE_LABELLED: ("count", "Predictions with an outcome on the newest day"),
    names.MODEL_LIVE_AUROC_LOW: (
        "auroc_low",
        "Lower end of the 95% interval of the newest day's live AUROC",
    ),
    names.MODEL_LIVE_AUROC_HIGH: (
        "auroc_high",
        "Upper end of the 95% interval of the newest day's live AUROC",
    ),
    names.MODEL_TEST_AUROC: ("test_auroc", "Test AUROC of the version at training"),
    names.MODEL_BACKTEST_AUROC: (
        "backtest_auroc",
        "Mean weekly AUROC of the version's backtest at training: its expected live quality",
    ),
    names.MODEL_BACKTEST_AUROC_LOW: (
        "backtest_auroc_low",
        "Lower edge of the version's backtest band (mean - k sd): below it, quality decayed",
    ),
}


class QualityReader(Collector):
    def __init__(self, url: str):
        # The common helper: the URL spellings the rest of the platform accepts (postgres://,
        # a bare postgresql:// meaning psycopg 3), and a bounded wait for a DB that is down.
        self.engine = create_database_engine(url, connect_timeout_s=CONNECT_TIMEOUT_S)
        self.rows: list[dict] = []
        self.retrains: dict[str, int] = {}

    def refresh(self) -> None:
        """Reads the tables; a table not there yet means nothing to report."""
        newest = sa.select(sa.func.max(model_quality.c.day)).scalar_subquery()
        with self.engine.connect() as conn:
            inspector = sa.inspect(conn)
            rows, retrains = [], {}
            if inspector.has_table(model_quality.name):
                # Only the columns there: a table from an older release lacks the newer ones
                # until the pipeline's next run adds them, and its other gauges still count.
                present = {c["name"] for c in inspector.get_columns(model_quality.name)}
                columns = [c for c in model_quality.columns if c.name in present]
                rows = [
                    dict(r)
                    for r in conn.execute(
                        sa.select(*columns).where(model_quality.c.day == newest)
                    ).mappings()
                ]
            if inspector.has_table(promotion_ledger.name) and "trigger_kind" in {
                c["name"] for c in inspector.get_columns(promotion_ledger.name)
            }:
                kind = promotion_ledger.c.trigger_kind
                retrains = dict(
                    conn.execute(
                        sa.select(kind, sa.func.count()).where(kind.is_not(None)).group_by(kind)
                    ).all()
                )
        self.rows, self.retrains = rows, retrains

    async def keep_fresh(self, interval_s: float) -> None:
        while True:
            try:
                await asyncio.to_thread(self.refresh)
            except Exception as exc:  # noqa: BLE001 - DB down: keep the last values, retry
                log.warning("model_quality not read: %s", exc)
            await asyncio.sleep(interval_s)

    def collect(self):
        for name, (column, text) in GAUGES.items():
            family = GaugeMetricFamily(name, text, labels=["model_version"])
            for row in self.rows:
                if row.get(column) is not None:
                    family.add_metric([row["model_version"]], float(row[column]))
            yield family
        family = GaugeMetricFamily(
            names.MODEL_RETRAINS,
            "Retraining runs in the promotion ledger by trigger kind",
            labels=["kind"],
        )
        for kind, count in sorted(self.retrains.items()):
            family.add_metric([kind], count)
        yield family

    def close(self) -> None:
        self.engine.dispose()
