"""Command line: ``python -m forecasting compare|tracks|presets ...``.

Progress goes to stderr, one line per model and epoch; the result is a readable
table, or with ``--json`` one JSON object on stdout. Bad input exits with code 2
and one line on stderr starting with ``error:``, never a traceback.

``--preset NAME`` takes every setting from a tutorial experiment; flags given
explicitly override single values.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NoReturn

import pandas as pd

from forecasting.analysis import lab
from forecasting.cli.lab import (
    add_lab_json,
    add_lab_options,
    check_lab,
    clean,
    print_lab,
    run_lab,
)
from forecasting.data import (
    PRICE_SAMPLES,
    TRACKING_SAMPLES,
    DataError,
    PriceData,
    TrackingData,
    load_sample,
    load_ticker,
    read_price_csv,
    read_tracking_csv,
    sample_path,
    series_frame,
)
from forecasting.prep.budget import budget_seconds, check_budget, check_rollout
from forecasting.runtime.protocol import JobFailed
from forecasting.runtime.service import get_engine
from forecasting.settings.config import (
    ENGINES,
    MODEL_KINDS,
    MODEL_LABELS,
    OPTIMIZERS,
    TARGETS,
    TRACKS_DEFAULT,
    EngineSettings,
    ExperimentConfig,
)
from forecasting.settings.names import (
    DEFAULT_SETTINGS,
    SETTING_NAMES,
    config_from_settings,
)
from forecasting.settings.presets import PRESETS, Preset, get_preset

if TYPE_CHECKING:
    from forecasting.analysis.compare import Comparison, Transfer
    from forecasting.runtime.engine import Engine

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one ``error:`` line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"error: {message}; see '{self.prog} --help'.\n")
        raise SystemExit(EXIT_USAGE)


def _default(name: str) -> str:
    """A setting's default as the help shows it in brackets, e.g. ``"0.001"``."""
    value = DEFAULT_SETTINGS[name]
    if isinstance(value, list):
        return " ".join(value)
    return value if isinstance(value, str) else f"{value:g}"


def _option(
    group: argparse._ArgumentGroup, flag: str, name: str, kind: type, text: str
) -> None:
    """An option for the setting ``name``, its default in the help."""
    metavar = flag.removeprefix("--").replace("-", "_").upper()
    group.add_argument(
        flag, dest=name, type=kind, metavar=metavar, help=f"{text} ({_default(name)})"
    )


def _add_common_options(parser: argparse.ArgumentParser, command: str) -> None:
    """Model, training and output options; ``None`` means "preset or default".

    The ``dest`` of each option is its setting's name (see
    :mod:`forecasting.settings.names`); the defaults in the help are the config's.
    """
    parser.add_argument(
        "--preset",
        choices=[p.name for p in PRESETS.values() if p.command == command],
        help="start from a tutorial experiment (see 'presets'); flags override it",
    )
    group = parser.add_argument_group("model and training")
    _option(group, "--window", "window", int, "past steps per window")
    group.add_argument(
        "--scale-range",
        type=float,
        nargs=2,
        metavar=("LOW", "HIGH"),
        help="MinMax scaler range, fitted on the training rows only "
        f"({_default('scale_low')} {_default('scale_high')})",
    )
    group.add_argument(
        "--target",
        choices=TARGETS,
        help="model the level (as the tutorials) or the step-to-step change "
        f"({_default('target')})",
    )
    models = TRACKS_DEFAULT.models if command == "tracks" else MODEL_KINDS
    group.add_argument(
        "--models",
        nargs="+",
        metavar="KIND",
        help=f"any of {', '.join(MODEL_KINDS)} ({' '.join(models)})",
    )
    _option(group, "--units", "units", int, "units per layer")
    _option(group, "--layers", "layers", int, "stacked layers")
    _option(group, "--dropout", "dropout", float, "dropout after each layer")
    _option(group, "--optimizer", "optimizer", str, f"one of {', '.join(OPTIMIZERS)}")
    _option(group, "--lr", "learning_rate", float, "learning rate")
    _option(group, "--epochs", "epochs", int, "epochs")
    _option(group, "--batch-size", "batch_size", int, "batch size")
    _option(group, "--seed", "seed", int, "random seed")
    _option(
        group,
        "--seeds",
        "seeds",
        int,
        "train each model with N seeds (seed, seed+1, ...): mean and std",
    )
    group.add_argument(
        "--early-stopping",
        action="store_true",
        default=None,
        help="stop on a validation tail cut from the end of the training data",
    )
    group.add_argument(
        "--no-xla",
        dest="jit_compile",
        action="store_false",
        default=None,
        help="do not compile training and forecasts with XLA",
    )
    _add_engine_options(parser)
    group.add_argument("--json", action="store_true", help="print one JSON object")


def _add_engine_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("where the training runs")
    group.add_argument(
        "--engine",
        choices=ENGINES,
        help="local worker processes, or Ray (RAY_ADDRESS, else a local Ray); "
        "default FORECASTING_ENGINE or local",
    )
    group.add_argument(
        "--workers",
        type=int,
        help="worker processes or Ray tasks at once; default FORECASTING_WORKERS "
        "or one per core",
    )


CLI_SURGE = 1
"""Spare workers on the command line: its one owner's next job shares the cores
when its long jobs hold every worker (five seeds on two workers)."""


def cli_engine_settings(args: argparse.Namespace) -> EngineSettings:
    """The engine flags, then the environment, then the command line's defaults."""
    return EngineSettings.from_env(args.engine, args.workers, default_surge=CLI_SURGE)


def _add_track_options(parser: argparse.ArgumentParser) -> None:
    """The data and row options of ``tracks`` and ``sweep``."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--csv", metavar="PATH", help="a tracking CSV with an ID column"
    )
    source.add_argument("--sample", choices=TRACKING_SAMPLES, help="a bundled sample")
    parser.add_argument("--id-column", help="the ID column, if not found by its name")
    split = TRACKS_DEFAULT.split
    parser.add_argument(
        "--features",
        nargs="+",
        metavar="NAME",
        help=f"coordinate columns ({' '.join(TRACKS_DEFAULT.columns)})",
    )
    parser.add_argument(
        "--train-rows", type=int, help=f"training rows ({split.train_rows})"
    )
    parser.add_argument("--test-rows", type=int, help=f"test rows ({split.test_rows})")


def build_parser() -> argparse.ArgumentParser:
    """Return the parser for ``python -m forecasting``."""
    parser = _Parser(
        prog="python -m forecasting",
        description="Train LSTM, GRU and SimpleRNN side by side and compare them.",
    )
    commands = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser
    )

    compare = commands.add_parser(
        "compare", help="price-like series: one or more columns"
    )
    source = compare.add_mutually_exclusive_group()
    source.add_argument("--csv", metavar="PATH", help="a CSV file with a date column")
    source.add_argument("--sample", choices=PRICE_SAMPLES, help="a bundled sample")
    source.add_argument("--ticker", metavar="SYMBOL", help="a Yahoo Finance ticker")
    compare.add_argument("--start", help="first date for --ticker (YYYY-MM-DD)")
    compare.add_argument("--end", help="last date for --ticker (YYYY-MM-DD)")
    compare.add_argument(
        "--column",
        nargs="+",
        metavar="NAME",
        help="target column(s); default High when present, else Close, else the first",
    )
    split = compare.add_mutually_exclusive_group()
    split.add_argument(
        "--train-years",
        type=int,
        nargs=2,
        metavar=("START", "END"),
        help="train on these years, inclusive "
        f"({_default('train_start_year')} {_default('train_end_year')})",
    )
    split.add_argument("--train-fraction", type=float, help="train on the first share")
    compare.add_argument("--test-end-year", type=int, help="last test year (all)")
    _add_common_options(compare, "compare")
    add_lab_options(compare)

    tracks = commands.add_parser("tracks", help="animal tracks: one individual's path")
    _add_track_options(tracks)
    tracks.add_argument("--id", dest="individual", help="the individual (the first)")
    tracks.add_argument(
        "--rollout",
        type=int,
        metavar="STEPS",
        help="also forecast this many steps freely from the last training window",
    )
    tracks.add_argument(
        "--transfer-to",
        metavar="ID",
        help="also apply the trained models to this other individual",
    )
    _add_common_options(tracks, "tracks")
    add_lab_options(tracks)

    sweep = commands.add_parser(
        "sweep", help="a grid over individuals x models x seeds, one CSV row per fit"
    )
    _add_track_options(sweep)
    sweep.add_argument(
        "--ids",
        nargs="+",
        default=["all"],
        metavar="ID",
        help="the individuals, or 'all' (all)",
    )
    sweep.add_argument(
        "--out",
        required=True,
        metavar="FILE.csv",
        help="one row per fit; rows already there are skipped on a re-run",
    )
    _add_common_options(sweep, "tracks")

    commands.add_parser("presets", help="list the tutorial experiments")
    return parser


def _pick(value: Any, fallback: Any) -> Any:
    return fallback if value is None else value


def flag_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given on the command line (options left out are not set).

    An option whose ``dest`` is a setting's name sets that setting; the scale
    range, the training years and the split's method are translated here.

    Args:
        args: Parsed arguments; ``None`` means "not given".

    Returns:
        Setting name -> value, for :func:`config_from_settings`.
    """
    settings = {
        name: getattr(args, name)
        for name in SETTING_NAMES
        if getattr(args, name, None) is not None
    }
    if args.scale_range is not None:
        settings["scale_low"], settings["scale_high"] = args.scale_range
    if args.command != "compare":
        settings["split_method"] = "rows"
    elif args.train_fraction is not None:
        settings["split_method"] = "fraction"
    elif args.train_years is not None or args.test_end_year is not None:
        settings["split_method"] = "years"
        if args.train_years is not None:
            start, end = args.train_years
            settings["train_start_year"], settings["train_end_year"] = start, end
    return settings


def resolve_config(
    args: argparse.Namespace, base: ExperimentConfig, columns: Sequence[str]
) -> ExperimentConfig:
    """Overlay the flags given on the command line on a base config.

    Args:
        args: Parsed arguments; ``None`` means "not given".
        base: The preset's config, or the command's defaults.
        columns: Target columns.

    Returns:
        The validated config.

    Raises:
        ValueError: If a value is invalid (the message names it).
    """
    return config_from_settings({**flag_settings(args), "columns": list(columns)}, base)


def _progress(kind: str, epoch: int, epochs: int, logs: dict[str, float]) -> None:
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


METRIC_KEYS = ("rmse", "mae", "mape", "euclidean")


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


def _print_report(
    comparison: Comparison,
    title: str,
    rollout: dict[str, float] | None,
    transfer: tuple[str, Transfer] | None,
) -> None:
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


def _list_presets() -> int:
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


def _compare(
    args: argparse.Namespace,
) -> tuple[pd.DataFrame, ExperimentConfig, str, PriceData]:
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


def _run(args: argparse.Namespace) -> int:
    from forecasting.analysis.compare import apply_to, rollout_error

    transfer = None
    if args.command == "compare":
        frame, config, title, data = _compare(args)
        rollout_steps = 0
    else:
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
    for note in data.notes:
        sys.stderr.write(f"note: {note}\n")
    check_lab(args, frame, config)
    rollout_error_steps = rollout_steps
    rollout_steps = max(rollout_steps, args.horizon or 0)
    engine = get_engine(cli_engine_settings(args))
    comparison = _train(frame, config, rollout_steps, engine)
    rollout = rollout_error(comparison) if rollout_error_steps else None
    applied = (
        (transfer[0], apply_to(comparison, transfer[1], engine=engine))
        if transfer
        else None
    )
    lab = run_lab(args, comparison, engine, _progress)
    if args.json:
        print(
            json.dumps(
                add_lab_json(to_json(comparison, rollout, applied), lab), indent=2
            )
        )
    else:
        _print_report(comparison, title, rollout, applied)
        print_lab(lab)
    return 0


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


def _sweep(args: argparse.Namespace) -> int:
    """``sweep``: every individual x model x seed on the engine, rows to a CSV."""
    from pathlib import Path

    from forecasting.analysis.sweep import run_sweep, summarize

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
                {"out": args.out, "rows": len(rows), "models": _summary_json(table)},
                indent=2,
            )
        )
    else:
        print(f"{len(rows)} rows in {args.out}; mean ± std over individuals and seeds:")
        print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    return 0


def _summary_json(table: pd.DataFrame) -> dict[str, Any]:
    return {
        model: {k: clean(float(v)) if k != "fits" else int(v) for k, v in row.items()}
        for model, row in table.iterrows()
    }


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
    return assemble(plan, run_jobs(plan.jobs, _progress, engine))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (2 for bad input)."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "presets":
            return _list_presets()
        if args.command == "sweep":
            return _sweep(args)
        return _run(args)
    except (DataError, ValueError) as err:
        sys.stderr.write(f"error: {err}\n")
        return EXIT_USAGE
    except JobFailed as err:
        sys.stderr.write(f"error: {err}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
