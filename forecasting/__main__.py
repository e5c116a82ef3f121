"""Command line: ``python -m forecasting compare|tracks ...``.

Progress goes to stderr, one line per model and epoch; the result is a readable
table, or with ``--json`` one JSON object on stdout. Bad input exits with code 2
and one line on stderr starting with ``error:``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import pandas as pd

from forecasting.config import (
    MODEL_KINDS,
    MODEL_LABELS,
    OPTIMIZERS,
    ExperimentConfig,
    ModelConfig,
    SplitConfig,
    TrainConfig,
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
)

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one ``error:`` line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"error: {message}; see '{self.prog} --help'.\n")
        raise SystemExit(EXIT_USAGE)


def _add_model_options(
    parser: argparse.ArgumentParser, default_models: Sequence[str]
) -> None:
    group = parser.add_argument_group("model and training")
    group.add_argument(
        "--window", type=int, default=60, help="past steps per window (60)"
    )
    group.add_argument(
        "--scale-range",
        type=float,
        nargs=2,
        default=(0.0, 1.0),
        metavar=("LOW", "HIGH"),
        help="MinMax scaler range, fitted on the training rows only (0 1)",
    )
    group.add_argument(
        "--models",
        nargs="+",
        default=list(default_models),
        metavar="KIND",
        help=f"{', '.join(MODEL_KINDS)} (default: {' '.join(default_models)})",
    )
    group.add_argument("--units", type=int, default=125, help="units per layer (125)")
    group.add_argument("--layers", type=int, default=1, help="stacked layers (1)")
    group.add_argument(
        "--dropout", type=float, default=0.0, help="dropout after each layer (0)"
    )
    group.add_argument(
        "--optimizer",
        default="rmsprop",
        help=f"one of {', '.join(OPTIMIZERS)} (rmsprop)",
    )
    group.add_argument("--lr", type=float, default=0.001, help="learning rate (0.001)")
    group.add_argument("--epochs", type=int, default=50, help="epochs (50)")
    group.add_argument("--batch-size", type=int, default=32, help="batch size (32)")
    group.add_argument("--seed", type=int, default=455, help="random seed (455)")
    group.add_argument(
        "--early-stopping",
        action="store_true",
        help="stop on a validation tail cut from the end of the training data",
    )
    group.add_argument(
        "--no-xla",
        dest="jit_compile",
        action="store_false",
        help="do not compile training and forecasts with XLA",
    )
    group.add_argument(
        "--json", action="store_true", help="print one JSON object on stdout"
    )


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
    source = compare.add_mutually_exclusive_group(required=True)
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
        help="train on these years, inclusive (default 2016 2020)",
    )
    split.add_argument(
        "--train-fraction", type=float, help="train on the first share, e.g. 0.8"
    )
    compare.add_argument(
        "--test-end-year", type=int, help="last test year (default: all)"
    )
    _add_model_options(compare, MODEL_KINDS)

    tracks = commands.add_parser(
        "tracks", help="animal tracks: one individual's 2-D path"
    )
    source = tracks.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--csv", metavar="PATH", help="a tracking CSV with an ID column"
    )
    source.add_argument("--sample", choices=TRACKING_SAMPLES, help="a bundled sample")
    tracks.add_argument(
        "--id", dest="individual", help="the individual (default: the first)"
    )
    tracks.add_argument("--id-column", help="the ID column, if not found by its name")
    tracks.add_argument(
        "--features",
        nargs="+",
        default=["X", "Y"],
        metavar="NAME",
        help="coordinate columns (X Y)",
    )
    tracks.add_argument(
        "--train-rows", type=int, default=2000, help="training rows (2000)"
    )
    tracks.add_argument("--test-rows", type=int, default=1000, help="test rows (1000)")
    tracks.add_argument(
        "--rollout",
        type=int,
        default=0,
        metavar="STEPS",
        help="also forecast this many steps freely from the last training window",
    )
    _add_model_options(tracks, ("gru",))
    return parser


def _experiment(
    args: argparse.Namespace, columns: Sequence[str], split: SplitConfig
) -> ExperimentConfig:
    return ExperimentConfig(
        columns=tuple(columns),
        split=split,
        window=args.window,
        scale_range=tuple(args.scale_range),
        models=tuple(args.models),
        model=ModelConfig(units=args.units, layers=args.layers, dropout=args.dropout),
        train=TrainConfig(
            optimizer=args.optimizer,
            learning_rate=args.lr,
            epochs=args.epochs,
            batch_size=args.batch_size,
            seed=args.seed,
            early_stopping=args.early_stopping,
            jit_compile=args.jit_compile,
        ),
    )


def _load_prices(args: argparse.Namespace) -> PriceData:
    if args.csv:
        return read_price_csv(args.csv)
    if args.ticker:
        return load_ticker(args.ticker, args.start, args.end)
    data = load_sample(args.sample)
    assert isinstance(data, PriceData)
    return data


def _load_tracks(args: argparse.Namespace) -> TrackingData:
    path = args.csv or sample_path(args.sample)
    return read_tracking_csv(
        path, id_column=args.id_column, features=args.features, name=args.sample
    )


def _progress(kind: str, epoch: int, epochs: int, logs: dict[str, float]) -> None:
    extra = "".join(f" {k} {v:.6f}" for k, v in logs.items())
    sys.stderr.write(f"[{MODEL_LABELS[kind]}] epoch {epoch}/{epochs}{extra}\n")
    sys.stderr.flush()


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _metric_dict(row: pd.Series, keys: Sequence[str]) -> dict[str, Any]:
    return {k: _clean(float(row[k])) for k in keys if k in row.index}


def to_json(comparison: Any, rollout: dict[str, float] | None = None) -> dict[str, Any]:
    """Turn a comparison into the documented JSON object."""
    table = comparison.metrics
    keys = ["rmse", "mae", "mape"] + (["euclidean"] if comparison.tracks else [])
    models: dict[str, Any] = {}
    baseline: dict[str, Any] = {}
    for _, row in table.iterrows():
        entry = _metric_dict(row, keys)
        if row["kind"] in MODEL_KINDS:
            entry["fit_seconds"] = float(row["fit_seconds"])
            entry["params"] = int(row["params"])
            entry["epochs"] = int(row["epochs"])
            if rollout is not None and row["kind"] in rollout:
                entry["rollout"] = {
                    "steps": comparison.rollout_steps,
                    "euclidean": _clean(rollout[row["kind"]]),
                }
            models[row["kind"]] = entry
        else:
            baseline[row["kind"]] = entry
    return {
        "n_train": int(len(comparison.split.train)),
        "n_test": int(len(comparison.split.test)),
        "window": comparison.config.window,
        "columns": list(comparison.split.columns),
        "models": models,
        "baseline": baseline,
    }


def _print_table(comparison: Any, title: str, rollout: dict[str, float] | None) -> None:
    table = comparison.metrics.drop(columns="kind").copy()
    if rollout:
        table["rollout_euclidean"] = pd.Series(
            {MODEL_LABELS[k]: v for k, v in rollout.items()}
        )
    split = comparison.split
    print(title)
    print(
        f"train {len(split.train)} rows ({split.train_index[0]} .. "
        f"{split.train_index[-1]}), test {len(split.test)} rows "
        f"({split.test_index[0]} .. {split.test_index[-1]}), "
        f"window {comparison.config.window}"
    )
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        print(table.to_string(float_format=lambda v: f"{v:.4f}", na_rep="-"))


def _run(args: argparse.Namespace) -> int:
    from forecasting.compare import rollout_error, run_comparison

    if args.command == "compare":
        data = _load_prices(args)
        columns = args.column or [data.default_column()]
        if args.train_fraction is not None:
            split = SplitConfig.by_fraction(args.train_fraction)
        else:
            start, end = args.train_years or (2016, 2020)
            split = SplitConfig.by_years(start, end, args.test_end_year)
        config = _experiment(args, columns, split)
        frame = data.frame
        title = f"{data.name}: {', '.join(columns)}, {split.describe()}"
        rollout_steps, tracks = 0, False
    else:
        data = _load_tracks(args)
        individual = args.individual or data.ids()[0]
        split = SplitConfig.by_rows(args.train_rows, args.test_rows)
        config = _experiment(args, data.features, split)
        track = data.track(individual, min_rows=args.train_rows + args.test_rows)
        frame = pd.DataFrame(track.values, columns=list(data.features))
        title = f"{data.name}: individual {individual}, {split.describe()}"
        rollout_steps, tracks = args.rollout, True
        if args.rollout < 0:
            raise ValueError(
                f"rollout must be a positive number of steps, got {args.rollout}"
            )
    for note in data.notes:
        sys.stderr.write(f"note: {note}\n")
    comparison = run_comparison(
        frame, config, progress=_progress, rollout_steps=rollout_steps, tracks=tracks
    )
    rollout = rollout_error(comparison) if rollout_steps else None
    if args.json:
        print(json.dumps(to_json(comparison, rollout), indent=2))
    else:
        _print_table(comparison, title, rollout)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (2 for bad input)."""
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except (DataError, ValueError) as err:
        sys.stderr.write(f"error: {err}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
