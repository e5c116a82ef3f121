"""The command line's parser: commands, options, and the settings they give.

Each option's ``dest`` is its setting's name (see :mod:`forecasting.settings.names`);
``None`` means "not given", so a preset or the default applies.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from forecasting.cli.lab import add_lab_options
from forecasting.data import PRICE_SAMPLES, TRACKING_SAMPLES
from forecasting.settings.config import (
    ENGINES,
    MODEL_KINDS,
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
from forecasting.settings.presets import PRESETS

EXIT_USAGE = 2
"""Exit code of bad input."""


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
    _add_model_options(group, command)
    _add_training_options(group)
    _add_engine_options(parser)
    group.add_argument("--json", action="store_true", help="print one JSON object")


def _add_model_options(group: argparse._ArgumentGroup, command: str) -> None:
    """Window, scaling, target, model kinds and architecture."""
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


def _add_training_options(group: argparse._ArgumentGroup) -> None:
    """Optimizer, learning rate, epochs, batch, seeds, early stopping and XLA."""
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
    _add_compare_command(commands)
    _add_tracks_command(commands)
    _add_sweep_command(commands)
    commands.add_parser("presets", help="list the tutorial experiments")
    return parser


def _add_compare_command(commands: argparse._SubParsersAction) -> None:
    """``compare``: a price-like series from a CSV, a sample or a ticker."""
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


def _add_tracks_command(commands: argparse._SubParsersAction) -> None:
    """``tracks``: one individual's path, with a free run and a transfer."""
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


def _add_sweep_command(commands: argparse._SubParsersAction) -> None:
    """``sweep``: a grid over individuals x models x seeds, rows to a CSV."""
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
