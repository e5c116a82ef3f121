"""A grid of fits over individuals, model kinds and seeds, written row by row.

``python -m forecasting sweep`` calls :func:`run_sweep`: every individual of a
tracking file (or a list) x every model kind x every seed becomes one job on the
engine, all queued at once so they run side by side. Each finished fit is
appended to a CSV at once, with the baselines once per individual, so a sweep
that is interrupted and started again skips what is already written.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecasting import metrics
from forecasting.analysis.compare import plan_comparison
from forecasting.analysis.scores import naive_baselines
from forecasting.data import DataError, TrackingData, series_frame
from forecasting.data.outputs import csv_cell, read_cell
from forecasting.nn.jobs import FitJob, FitResult
from forecasting.prep.windows import Split
from forecasting.runtime.engine import DONE, FAILED, Engine
from forecasting.settings.config import ExperimentConfig

COLUMNS = (
    "id",
    "model",
    "seed",
    "rmse",
    "mae",
    "mape",
    "euclidean",
    "fit_seconds",
    "epochs",
    "params",
)
"""Columns of the sweep CSV; baselines have an empty seed and fit columns."""

OnRow = Callable[[dict[str, Any], int, int], None]
"""``on_row(row, done, total)`` after each row is written."""


def _done_keys(out: Path) -> set[tuple[str, str, str]]:
    """``(id, model, seed)`` of the rows already in the CSV."""
    if not out.exists() or out.stat().st_size == 0:
        return set()
    try:
        old = pd.read_csv(out, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise DataError(
            f"{out} exists but is not a sweep CSV ({err}); choose another --out file."
        ) from None
    missing = {"id", "model", "seed"} - set(old.columns)
    if missing:
        raise DataError(
            f"{out} exists but has no {', '.join(sorted(missing))} column; choose "
            "another --out file."
        )
    ids = old["id"].map(read_cell)
    return set(zip(ids, old["model"], old["seed"], strict=True))


def _append(out: Path, row: dict[str, Any]) -> None:
    new = not out.exists() or out.stat().st_size == 0
    with out.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerow({k: _cell(row.get(k)) for k in COLUMNS})


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return "" if not np.isfinite(value) else f"{value:.6g}"
    return "" if value is None else csv_cell(value)


def _fit_row(individual: str, fit: FitResult, split: Split) -> dict[str, Any]:
    row: dict[str, Any] = {"id": individual, "model": fit.kind, "seed": fit.seed}
    row.update(metrics.score(split.test, fit.predictions, split.track))
    row.update(fit_seconds=fit.fit_seconds, epochs=fit.epochs_run, params=fit.params)
    return row


def run_sweep(
    data: TrackingData,
    ids: Sequence[str],
    config: ExperimentConfig,
    out: Path,
    engine: Engine,
    on_row: OnRow | None = None,
) -> pd.DataFrame:
    """Fit every individual x model kind x seed and append one row per fit.

    Args:
        data: A tracking file.
        ids: The individuals.
        config: Split (rows), window, models, seeds and training, as for
            ``tracks``.
        out: The CSV; rows already in it are not fitted again.
        engine: Where the fits run.
        on_row: Called after each row is written.

    Returns:
        Every row of the CSV (old and new).

    Raises:
        DataError: If an individual is too short or unknown.
    """
    done = _done_keys(out)
    needed = config.split.train_rows + config.split.test_rows
    why = f"train {config.split.train_rows} + test {config.split.test_rows}"
    work: list[tuple[str, FitJob, Split]] = []
    baseline_rows: list[dict[str, Any]] = []
    for individual in ids:
        frame, _ = series_frame(
            data, data.features, individual, min_rows=needed, needed_for=why
        )
        plan = plan_comparison(frame, config)
        split = plan.windows.split
        for name, pred in naive_baselines(split, config.window).items():
            if (str(individual), name, "") not in done:
                row = {"id": individual, "model": name, "seed": ""}
                row.update(metrics.score(split.test, pred, split.track))
                baseline_rows.append(row)
        for job in plan.jobs:
            if (str(individual), job.kind, str(job.seed)) not in done:
                work.append((str(individual), job, split))
    total = len(baseline_rows) + len(work)
    count = 0
    for row in baseline_rows:
        _append(out, row)
        count += 1
        if on_row:
            on_row(row, count, total)
    _run_fits(work, out, engine, on_row, count, total)
    return pd.read_csv(out) if out.exists() else pd.DataFrame(columns=COLUMNS)


def _run_fits(
    work: list[tuple[str, FitJob, Split]],
    out: Path,
    engine: Engine,
    on_row: OnRow | None,
    count: int,
    total: int,
) -> None:
    """Queue every fit at once; write each row as soon as its fit is done."""
    import time

    tickets = [engine.submit(job, "sweep") for _, job, _ in work]
    left = dict(enumerate(tickets))
    failures: list[str] = []
    try:
        while left:
            for i, ticket in list(left.items()):
                status = engine.status(ticket)
                if status.state not in (DONE, FAILED):
                    continue
                del left[i]
                individual, job, split = work[i]
                if status.state == FAILED:
                    failures.append(f"{individual} {job.label}: {status.error}")
                    continue
                row = _fit_row(individual, engine.result(ticket), split)
                _append(out, row)
                count += 1
                if on_row:
                    on_row(row, count, total)
            time.sleep(0.1)
    finally:
        engine.cancel(tickets)
    if failures:
        raise DataError(
            f"{len(failures)} fit(s) failed ({failures[0]}); run the same command "
            "again to retry them."
        )


def summarize(rows: pd.DataFrame) -> pd.DataFrame:
    """Per model (and baseline): mean and spread of each metric over ids and seeds.

    Returns:
        Indexed by model, columns ``fits`` and ``<metric>_mean`` /
        ``<metric>_std`` for RMSE, MAE and the Euclidean error.
    """
    keys = ["rmse", "mae", "euclidean"]
    grouped = rows.groupby("model", sort=False)[keys]
    table = grouped.mean().add_suffix("_mean").join(grouped.std().add_suffix("_std"))
    table.insert(0, "fits", grouped.size())
    return table[["fits"] + [f"{k}_{s}" for k in keys for s in ("mean", "std")]]
