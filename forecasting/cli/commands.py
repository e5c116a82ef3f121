"""The command line's commands: ``compare``, ``tracks``, ``sweep`` and ``presets``.

Each takes the parsed arguments, loads the data, trains on the engine and prints
(see :mod:`~forecasting.cli.report`); it returns the exit code.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from forecasting.cli.lab import add_lab_json, check_lab, print_lab, run_lab
from forecasting.cli.parser import cli_engine_settings, resolve_config
from forecasting.cli.report import (
    print_progress,
    print_report,
    summary_json,
    to_json,
)
from forecasting.data import (
    PriceData,
    TrackingData,
    load_sample,
    load_ticker,
    read_price_csv,
    read_tracking_csv,
    sample_path,
    series_frame,
)
from forecasting.data.outputs import check_output_path
from forecasting.metrics import non_finite_note
from forecasting.prep.budget import budget_seconds, check_budget, check_rollout
from forecasting.runtime.service import get_engine
from forecasting.settings.config import (
    MODEL_LABELS,
    TRACKS_DEFAULT,
    ExperimentConfig,
)
from forecasting.settings.presets import PRESETS, Preset, get_preset

if TYPE_CHECKING:
    from forecasting.analysis.compare import Comparison
    from forecasting.runtime.engine import Engine


def _pick(value: Any, fallback: Any) -> Any:
    return fallback if value is None else value


def presets_command() -> int:
    """``presets``: print every tutorial experiment and what it reported."""
    for preset in PRESETS.values():
        print(f"{preset.name}  ({preset.command})")
        print(f"    {preset.title}")
        print(f"    {preset.describe()}")
        if preset.reported:
            reported = ", ".join(
                f"{MODEL_LABELS[k]} {v}" for k, v in preset.reported.items()
            )
            print(f"    tutorial's reported test RMSE: {reported}")
    return 0


def _preset(args: argparse.Namespace) -> Preset | None:
    return get_preset(args.preset) if args.preset else None


def compare_data(
    args: argparse.Namespace,
) -> tuple[pd.DataFrame, ExperimentConfig, str, PriceData]:
    """The data of ``compare``: the series, the config, the title and the source.

    Raises:
        ValueError: If no data source is given.
    """
    preset = _preset(args)
    if args.csv:
        data = read_price_csv(args.csv)
    elif args.ticker:
        data = load_ticker(args.ticker, args.start, args.end)
    elif args.sample or preset:
        data = load_sample(args.sample or preset.sample)  # type: ignore[union-attr]
    else:
        raise ValueError(
            "a data source is needed: give --csv PATH, --sample NAME, --ticker SYMBOL "
            "or --preset NAME"
        )
    assert isinstance(data, PriceData)
    base = preset.config if preset else ExperimentConfig()
    columns = args.column or (list(base.columns) if preset else [data.default_column()])
    frame, notes = series_frame(data, columns)
    columns = list(frame.columns)
    config = resolve_config(args, base, columns)
    title = f"{data.name}: {', '.join(columns)}, {config.split.describe()}"
    return frame, config, title, replace(data, notes=(*data.notes, *notes))


def compare_command(args: argparse.Namespace) -> int:
    """``compare`` and ``tracks``: load, train every model, score and print."""
    from forecasting.analysis.compare import apply_to, rollout_error

    if args.predictions:
        check_output_path(args.predictions, "--predictions")
    transfer = None
    if args.command == "compare":
        frame, config, title, data = compare_data(args)
        rollout_steps = 0
    else:
        frame, config, title, data, rollout_steps, transfer = tracks_data(args)
    for note in data.notes:
        sys.stderr.write(f"note: {note}\n")
    check_lab(args, frame, config)
    rollout_error_steps = rollout_steps
    rollout_steps = max(rollout_steps, args.horizon or 0)
    engine = get_engine(cli_engine_settings(args))
    comparison = _train(frame, config, rollout_steps, engine)
    note = non_finite_note(comparison.metrics["rmse"].to_dict())
    if note:
        sys.stderr.write(f"note: {note}\n")
    rollout = rollout_error(comparison) if rollout_error_steps else None
    applied = (
        (transfer[0], apply_to(comparison, transfer[1], engine=engine))
        if transfer
        else None
    )
    lab = run_lab(args, comparison, engine, print_progress)
    if args.json:
        print(
            json.dumps(
                add_lab_json(to_json(comparison, rollout, applied), lab), indent=2
            )
        )
    else:
        print_report(comparison, title, rollout, applied)
        print_lab(lab)
    return 0


def tracks_data(
    args: argparse.Namespace,
) -> tuple[
    pd.DataFrame,
    ExperimentConfig,
    str,
    TrackingData,
    int,
    tuple[str, pd.DataFrame] | None,
]:
    """The data of ``tracks``: one individual's rows, and another's for a transfer.

    Returns:
        ``(frame, config, title, data, rollout steps, transfer)``; ``transfer``
        is ``(other individual, its frame)`` or ``None``.
    """
    transfer = None
    preset = _preset(args)
    data = _load_tracks(args, args.sample or (preset.sample if preset else None))
    base = preset.config if preset else TRACKS_DEFAULT
    config = resolve_config(args, base, data.features)
    preset_id = preset.individual if preset and not args.csv else None
    individual = args.individual or preset_id or data.ids()[0]
    needed = config.split.train_rows + config.split.test_rows
    why = f"train {config.split.train_rows} + test {config.split.test_rows}"
    frame, notes = series_frame(
        data, data.features, individual, min_rows=needed, needed_for=why
    )
    rollout_steps = _pick(args.rollout, preset.rollout if preset else 0)
    other = args.transfer_to or (
        preset.transfer_to if preset and not args.csv else None
    )
    if other is not None:
        other_frame, _ = series_frame(
            data, data.features, other, min_rows=needed, needed_for=why
        )
        transfer = (other, other_frame)
    data = replace(data, notes=(*data.notes, *notes))
    title = f"{data.name}: individual {individual}, {config.split.describe()}"
    return frame, config, title, data, rollout_steps, transfer


def _load_tracks(args: argparse.Namespace, sample: str | None) -> TrackingData:
    if not args.csv and not sample:
        raise ValueError(
            "a data source is needed: give --csv PATH, --sample NAME or --preset NAME"
        )
    return read_tracking_csv(
        args.csv or sample_path(sample),  # type: ignore[arg-type]
        id_column=args.id_column,
        features=args.features or TRACKS_DEFAULT.columns,
        name=None if args.csv else sample,
    )


def sweep_command(args: argparse.Namespace) -> int:
    """``sweep``: every individual x model x seed on the engine, rows to a CSV."""
    from pathlib import Path

    from forecasting.analysis.sweep import run_sweep, summarize

    check_output_path(args.out, "--out")
    preset = _preset(args)
    data = _load_tracks(args, args.sample or (preset.sample if preset else None))
    config = resolve_config(
        args, preset.config if preset else TRACKS_DEFAULT, data.features
    )
    ids = data.ids() if args.ids == ["all"] else list(args.ids)
    engine = get_engine(cli_engine_settings(args))

    def on_row(row: dict[str, Any], done: int, total: int) -> None:
        bar = "#" * round(20 * done / max(total, 1))
        seed = f" seed {row['seed']}" if row["seed"] != "" else ""
        sys.stderr.write(
            f"[{bar:<20}] {done}/{total} {row['id']} {row['model']}{seed}: "
            f"euclidean {row['euclidean']:.4f}\n"
        )
        sys.stderr.flush()

    rows = run_sweep(data, ids, config, Path(args.out), engine, on_row)
    table = summarize(rows)
    if args.json:
        print(
            json.dumps(
                {"out": args.out, "rows": len(rows), "models": summary_json(table)},
                indent=2,
            )
        )
    else:
        print(f"{len(rows)} rows in {args.out}; mean ± std over individuals and seeds:")
        print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    return 0


def _train(
    frame: pd.DataFrame,
    config: ExperimentConfig,
    rollout_steps: int,
    engine: Engine,
) -> Comparison:
    """Check the budget (if ``FORECASTING_BUDGET_SECONDS`` is set), then train."""
    from forecasting.analysis.compare import assemble, plan_comparison
    from forecasting.runtime.service import run_jobs

    check_rollout(rollout_steps)
    plan = plan_comparison(frame, config, rollout_steps)
    check_budget(config, len(plan.windows.x_train), budget_seconds())
    return assemble(plan, run_jobs(plan.jobs, print_progress, engine))
