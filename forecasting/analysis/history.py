"""Run history: the runs of a session as one table, and as CSV text.

Each finished run is a :class:`RunEntry` (an id, when it finished, its settings
as a flat dict and its metrics table); :func:`history_frame` lines them up, one
row per run, so that a class can see which settings gave which errors, and
:func:`history_csv` is the download. Values are stable kind ids (``"gru"``,
``"persistence"``); display names are the page's business.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from forecasting.data.outputs import csv_text
from forecasting.settings.config import MODEL_KINDS, ExperimentConfig


@dataclass(frozen=True)
class RunEntry:
    """One finished run, as the history keeps it.

    Attributes:
        id: Unique within the session, e.g. ``"run-3"`` or the training cache key.
        time: When it finished.
        settings: Flat settings, e.g. from :func:`config_settings`.
        metrics: Its metrics table (:attr:`compare.Comparison.metrics`:
            rows with ``kind`` and ``rmse`` columns).
    """

    id: str
    time: datetime
    settings: Mapping[str, Any]
    metrics: pd.DataFrame


def config_settings(config: ExperimentConfig, data: str) -> dict[str, Any]:
    """The settings of a comparison as a flat dict (what the history shows).

    Args:
        config: The comparison's settings.
        data: Where the data came from, e.g. ``"mastercard"`` or a file name.

    Returns:
        ``data``, ``columns``, ``split`` (described), ``window``, ``target``,
        ``models``, ``units``, ``layers``, ``dropout``, ``optimizer``,
        ``learning_rate``, ``epochs``, ``batch_size``, ``seed``, ``seeds``.
    """
    model, train = config.model, config.train
    return {
        "data": data,
        "columns": list(config.columns),
        "split": config.split.describe(),
        "window": config.window,
        "target": config.target,
        "models": list(config.models),
        "units": model.units,
        "layers": model.layers,
        "dropout": model.dropout,
        "optimizer": train.optimizer,
        "learning_rate": train.learning_rate,
        "epochs": train.epochs,
        "batch_size": train.batch_size,
        "seed": train.seed,
        "seeds": train.seeds,
    }


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "/".join(_text(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def settings_summary(settings: Mapping[str, Any]) -> str:
    """The settings in one short line: ``"data mastercard; window 60; ..."``.

    Lists are joined with ``/``, floats written shortly (``0.001``), ``None``
    values left out; the keys keep their order.
    """
    return "; ".join(
        f"{key} {_text(value)}" for key, value in settings.items() if value is not None
    )


def settings_difference(
    a: Mapping[str, Any], b: Mapping[str, Any]
) -> dict[str, tuple[Any, Any]]:
    """The settings two runs do not share: key -> (value in a, value in b).

    A key missing from one side has ``None`` there. Keys in ``a``'s order, then
    the ones only ``b`` has.
    """
    keys = list(a) + [k for k in b if k not in a]
    return {k: (a.get(k), b.get(k)) for k in keys if a.get(k) != b.get(k)}


def _best(rmse: pd.Series) -> tuple[str | None, float]:
    finite = rmse[np.isfinite(rmse.to_numpy(dtype=np.float64))]
    if finite.empty:
        return None, float("nan")
    return str(finite.idxmin()), float(finite.min())


def history_frame(runs: Sequence[RunEntry]) -> pd.DataFrame:
    """One row per run: id, time, settings, the best model and every RMSE.

    Args:
        runs: The finished runs, oldest first.

    Returns:
        A frame with a default integer index and the columns ``id``, ``time``,
        ``settings`` (:func:`settings_summary`), ``best_model`` (kind of the
        network with the lowest finite RMSE, ``None`` if none), ``best_rmse``,
        ``best_baseline`` and ``best_baseline_rmse`` (the same among the
        baselines), ``beats_baselines`` (the best network's RMSE is below the best
        baseline's), then ``rmse_<kind>`` for every kind seen, networks first,
        each group in the order first seen (NaN where a run lacks that kind).
    """
    rows: list[dict[str, Any]] = []
    networks: list[str] = []
    baselines: list[str] = []
    for run in runs:
        rmse = run.metrics.set_index("kind")["rmse"].astype(np.float64)
        is_network = rmse.index.isin(MODEL_KINDS)
        best_model, best_rmse = _best(rmse[is_network])
        best_base, base_rmse = _best(rmse[~is_network])
        for kind in rmse.index:
            group = networks if kind in MODEL_KINDS else baselines
            if kind not in group:
                group.append(kind)
        rows.append(
            {
                "id": run.id,
                "time": pd.Timestamp(run.time),
                "settings": settings_summary(run.settings),
                "best_model": best_model,
                "best_rmse": best_rmse,
                "best_baseline": best_base,
                "best_baseline_rmse": base_rmse,
                "beats_baselines": bool(best_rmse < base_rmse),
                **{f"rmse_{kind}": float(value) for kind, value in rmse.items()},
            }
        )
    fixed = [
        "id",
        "time",
        "settings",
        "best_model",
        "best_rmse",
        "best_baseline",
        "best_baseline_rmse",
        "beats_baselines",
    ]
    columns = fixed + [f"rmse_{kind}" for kind in networks + baselines]
    return pd.DataFrame(rows, columns=columns)


def history_csv(runs: Sequence[RunEntry]) -> str:
    """The history as CSV text (the frame of :func:`history_frame`, no index).

    Times are written ISO 8601 (``2026-12-01T09:40:00``), numbers in full.
    """
    frame = history_frame(runs)
    frame["time"] = [t.isoformat() for t in frame["time"]]
    return csv_text(frame, index=False, lineterminator="\n")
