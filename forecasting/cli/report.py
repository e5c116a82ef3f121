"""What the command line prints: progress, the readable report, the JSON object.

Progress goes to stderr, one line per model and epoch; the result is a readable
table (:func:`print_report`), or with ``--json`` one JSON object
(:func:`to_json`) on stdout.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import pandas as pd

from forecasting.analysis import lab
from forecasting.cli.lab import clean
from forecasting.settings.config import MODEL_KINDS, MODEL_LABELS

if TYPE_CHECKING:
    from forecasting.analysis.compare import Comparison, Transfer

METRIC_KEYS = ("rmse", "mae", "mape", "euclidean")
"""The error metrics a JSON entry can hold (each with a ``_std`` beside it)."""


def print_progress(kind: str, epoch: int, epochs: int, logs: dict[str, float]) -> None:
    """One stderr line per model, seed and epoch, with the epoch's losses."""
    seed = f" (seed {int(logs['seed'])})" if "seed" in logs else ""
    values = "".join(f" {k} {v:.6f}" for k, v in logs.items() if k != "seed")
    sys.stderr.write(f"[{MODEL_LABELS[kind]}] epoch {epoch}/{epochs}{seed}{values}\n")
    sys.stderr.flush()


def _table_json(table: pd.DataFrame) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a metrics table into ``models`` and ``baseline`` JSON entries."""
    models: dict[str, Any] = {}
    baseline: dict[str, Any] = {}
    metric_columns = [c for c in table.columns if c.split("_std")[0] in METRIC_KEYS]
    for _, row in table.iterrows():
        entry = {c: clean(float(row[c])) for c in metric_columns if pd.notna(row[c])}
        if row["kind"] in MODEL_KINDS:
            if pd.notna(row["fit_seconds"]):
                entry["fit_seconds"] = float(row["fit_seconds"])
                entry["params"] = int(row["params"])
                entry["epochs"] = float(row["epochs"])
            entry["seeds"] = int(row["seeds"])
            models[row["kind"]] = entry
        else:
            baseline[row["kind"]] = entry
    return models, baseline


def to_json(
    comparison: Comparison,
    rollout: dict[str, float] | None = None,
    transfer: tuple[str, Transfer] | None = None,
) -> dict[str, Any]:
    """Turn a comparison into the documented JSON object.

    ``{"n_train", "n_test", "models": {kind: {"rmse", "mae", "mape", ("euclidean",)
    "fit_seconds", "params", ...}}, "baseline": {name: {...}}}``; with several
    seeds each metric has a ``<metric>_std`` beside it; with a free run each model
    has ``"rollout": {"steps", "euclidean"}``; with a transfer, ``"transfer"``.
    Every model and baseline has ``"skill"`` (against persistence, ``null`` if
    undefined) and ``"best_lag"`` (:mod:`~.analysis.lab`); with 3 or more seeds,
    ``"paired": [{"a", "b", "mean_diff", "ci_low", "ci_high", "verdict"}, ...]``.
    """
    models, baseline = _table_json(comparison.metrics)
    _add_skill(models, baseline, lab.skill_and_lag(comparison))
    for kind, error in (rollout or {}).items():
        models[kind]["rollout"] = {
            "steps": comparison.rollout_steps,
            "euclidean": clean(error),
        }
    result: dict[str, Any] = {
        "n_train": len(comparison.split.train),
        "n_test": len(comparison.split.test),
        "window": comparison.config.window,
        "columns": list(comparison.split.columns),
        "target": comparison.config.target,
        "models": models,
        "baseline": baseline,
    }
    if comparison.config.train.seeds >= lab.MIN_SEEDS:
        result["paired"] = [
            {k: clean(v) for k, v in pair.items()}
            for pair in lab.comparison_paired(comparison)
        ]
    if transfer is not None:
        individual, applied = transfer
        other_models, other_baseline = _table_json(applied.metrics)
        _add_skill(other_models, other_baseline, lab.transfer_skill_and_lag(applied))
        result["transfer"] = {
            "individual": individual,
            "models": other_models,
            "baseline": other_baseline,
        }
    return result


def _add_skill(
    models: dict[str, Any], baseline: dict[str, Any], values: dict[str, Any]
) -> None:
    """Put ``"skill"`` and ``"best_lag"`` into every JSON model and baseline entry."""
    for kind, value in values.items():
        entry = models[kind] if kind in models else baseline[kind]
        entry["skill"] = clean(value["skill"])
        entry["best_lag"] = value["best_lag"]


def _format_index(index: pd.Index) -> str:
    if isinstance(index, pd.DatetimeIndex):
        return f"{index[0]:%Y-%m-%d} .. {index[-1]:%Y-%m-%d}"
    return f"rows {index[0]} .. {index[-1]}"


def _print_table(table: pd.DataFrame, rollout: dict[str, float] | None) -> None:
    """Print a metrics table; with several seeds each metric reads "mean ± std"."""
    shown = pd.DataFrame(index=table.index)
    for column in table.columns:
        if column == "kind" or column.endswith("_std"):
            continue
        values = table[column]
        if column in ("params", "epochs", "seeds", "best_lag"):
            shown[column] = [f"{v:,.0f}" if pd.notna(v) else "-" for v in values]
            continue
        std = table.get(f"{column}_std")
        shown[column] = [
            "-"
            if pd.isna(v)
            else f"{v:.4f} ± {s:.4f}"
            if std is not None and pd.notna(s)
            else f"{v:.4f}"
            for v, s in zip(values, std if std is not None else values, strict=True)
        ]
    if rollout:
        errors = {MODEL_LABELS[k]: f"{v:.4f}" for k, v in rollout.items()}
        shown["rollout_euclidean"] = [errors.get(name, "-") for name in shown.index]
    print(shown.to_string())


def print_report(
    comparison: Comparison,
    title: str,
    rollout: dict[str, float] | None,
    transfer: tuple[str, Transfer] | None,
) -> None:
    """Print the readable report: rows, metrics table, verdicts, the transfer.

    Args:
        comparison: A finished comparison.
        title: The first line (data, columns, split).
        rollout: Model kind -> free-run Euclidean error, or ``None``.
        transfer: ``(individual, Transfer)``, or ``None``.
    """
    split = comparison.split
    print(title)
    print(
        f"train {len(split.train)} rows ({_format_index(split.train_index)}), "
        f"test {len(split.test)} rows ({_format_index(split.test_index)}), "
        f"window {comparison.config.window}, target {comparison.config.target}"
    )
    table = lab.with_skill_columns(comparison.metrics, lab.skill_and_lag(comparison))
    _print_table(table, rollout)
    for line in lab.report_lines(comparison):
        print(line)
    if transfer is not None:
        applied = transfer[1]
        print(f"\nThe same models applied to {transfer[0]}:")
        values = lab.transfer_skill_and_lag(applied)
        _print_table(lab.with_skill_columns(applied.metrics, values), None)


def summary_json(table: pd.DataFrame) -> dict[str, Any]:
    """A sweep's summary table as ``{model: {column: value}}`` for the JSON."""
    return {
        model: {k: clean(float(v)) if k != "fits" else int(v) for k, v in row.items()}
        for model, row in table.iterrows()
    }
