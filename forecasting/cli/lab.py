"""The command line's lab flags: ``--intervals``, ``--horizon``, ``--backtest``.

Their options, the checks made before anything trains, the work after the
comparison (:mod:`~forecasting.analysis.intervals`,
:mod:`~forecasting.analysis.horizon`, :mod:`~forecasting.analysis.backtest`), and
how the results join the JSON and the printed report of
``python -m forecasting compare|tracks``.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from forecasting.data.outputs import csv_text
from forecasting.prep.budget import budget_seconds
from forecasting.settings.config import ExperimentConfig

if TYPE_CHECKING:
    from forecasting.analysis.compare import Comparison
    from forecasting.runtime.engine import Engine


def clean(value: Any) -> Any:
    """A JSON-safe number: ``None`` for NaN and infinities."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def add_lab_options(parser: argparse.ArgumentParser) -> None:
    """Intervals, error by horizon and walk-forward backtest (issue 12)."""
    group = parser.add_argument_group("beyond one test score")
    group.add_argument(
        "--intervals",
        type=float,
        metavar="COVERAGE",
        help="split-conformal prediction intervals at this coverage, e.g. 0.8, "
        "calibrated on the tail of the training windows",
    )
    group.add_argument(
        "--horizon",
        type=int,
        metavar="STEPS",
        help="forecast this many steps recursively from the end of training and "
        "report the error at each step ahead (tracks: the free run is the longer "
        "of --rollout and --horizon)",
    )
    group.add_argument(
        "--backtest",
        type=int,
        metavar="K",
        help="walk-forward backtest: the test period cut into K folds, each trained "
        "on everything before it",
    )
    group.add_argument(
        "--refit",
        action="store_true",
        help="with --backtest, train the networks again on every fold",
    )
    group.add_argument(
        "--predictions",
        metavar="FILE.csv",
        help="write the test rows, every forecast (and interval bounds) to a CSV",
    )


def check_lab_settings(
    n_test: int,
    coverage: float | None = None,
    horizon: int | None = None,
    folds: int | None = None,
    refit: bool = False,
) -> None:
    """Check interval, horizon and backtest settings against the test rows.

    Called before anything trains, so a bad value fails at once.

    Args:
        n_test: Test rows of the split.
        coverage: Interval coverage, or ``None`` for no intervals.
        horizon: Free-run steps to score, or ``None``.
        folds: Backtest folds, or ``None`` for no backtest.
        refit: Refit the networks per fold (needs ``folds``).

    Raises:
        ValueError: Naming the bad value.
    """
    from forecasting.analysis.backtest import check_folds
    from forecasting.analysis.horizon import check_horizon
    from forecasting.analysis.intervals import check_coverage

    if coverage is not None:
        check_coverage(coverage)
    if horizon is not None:
        check_horizon(horizon, n_test)
    if folds is not None:
        check_folds(folds, n_test)
    elif refit:
        raise ValueError("refit needs a backtest: give the number of folds too")


def check_lab(
    args: argparse.Namespace, frame: pd.DataFrame, config: ExperimentConfig
) -> None:
    """Refuse bad interval, horizon and backtest values before anything trains."""
    from forecasting.analysis.backtest import refit_seconds
    from forecasting.prep.windows import split_series

    if args.intervals is None and args.horizon is None and args.backtest is None:
        if args.refit:
            check_lab_settings(0, refit=True)
        return
    split = split_series(frame, config.columns, config.split)
    check_lab_settings(
        len(split.test), args.intervals, args.horizon, args.backtest, args.refit
    )
    if args.refit:
        _check_backtest_budget(refit_seconds(split, config, args.backtest), args)


def run_lab(
    args: argparse.Namespace,
    comparison: Comparison,
    engine: Engine,
    progress: Callable[..., None],
) -> dict[str, Any]:
    """Intervals, horizon errors and the backtest the flags ask for."""
    from forecasting.analysis import backtest, horizon, intervals

    lab: dict[str, Any] = {}
    if args.intervals is not None:
        method = "distance" if comparison.split.track else "coordinate"
        lab["intervals"] = intervals.model_intervals(comparison, args.intervals, method)
    if args.horizon:
        lab["horizon"] = horizon.comparison_horizon_errors(comparison, args.horizon)
    if args.backtest is not None:
        lab["backtest"] = backtest.run_backtest(
            comparison, args.backtest, args.refit, progress, engine
        )
    if args.predictions:
        frame = intervals.predictions_with_bounds(comparison, lab.get("intervals", {}))
        label = "Date" if isinstance(frame.index, pd.DatetimeIndex) else "row"
        Path(args.predictions).write_text(csv_text(frame, index_label=label))
    return lab


def _check_backtest_budget(seconds: float, args: argparse.Namespace) -> None:
    """Say what the refits cost, and refuse them over the per-run budget."""
    from forecasting.prep.budget import BudgetError, describe_seconds

    sys.stderr.write(
        f"note: the backtest refits every network on {args.backtest - 1} more "
        f"folds, {describe_seconds(seconds)} of training after the comparison\n"
    )
    budget = budget_seconds()
    if budget is not None and seconds > budget:
        raise BudgetError(
            f"The backtest refits need {describe_seconds(seconds)} of training, more "
            f"than the {describe_seconds(budget).removeprefix('about ')} this server "
            "allows per run; use fewer folds or leave out --refit."
        )


def add_lab_json(result: dict[str, Any], lab: dict[str, Any]) -> dict[str, Any]:
    """Add ``interval``, ``horizon_errors`` and ``backtest`` to the JSON object."""
    for kind, interval in lab.get("intervals", {}).items():
        result["models"][kind]["interval"] = {
            "nominal": interval.nominal,
            "coverage": interval.coverage,
            "method": interval.method,
            "half_width": [clean(float(w)) for w in interval.half_width],
            "calibration_rows": interval.n_calibration,
            "calibration_held_out": interval.held_out,
        }
    for kind, errors in lab.get("horizon", {}).items():
        entry = result["models"].get(kind, result["baseline"].get(kind))
        if entry is not None:
            entry["horizon_errors"] = [clean(float(e)) for e in errors]
    if "backtest" in lab:
        result["backtest"] = lab["backtest"]
    return result


def print_lab(lab: dict[str, Any]) -> None:
    """Print intervals, error by horizon and the backtest below the table."""
    from forecasting.analysis.backtest import backtest_frame
    from forecasting.forecasters import display_name

    for kind, interval in lab.get("intervals", {}).items():
        widths = ", ".join(f"{w:.4f}" for w in interval.half_width)
        seen = (
            " (calibrated on rows it was trained on)" if not interval.held_out else ""
        )
        print(
            f"{display_name(kind)}: {interval.nominal:.0%} interval (± {widths}) "
            f"covered {interval.coverage:.1%} of the test period{seen}"
        )
    if lab.get("horizon"):
        frame = pd.DataFrame(
            {display_name(k): v for k, v in lab["horizon"].items()},
            index=pd.RangeIndex(1, len(next(iter(lab["horizon"].values()))) + 1),
        )
        print("\nFree-run error by steps ahead:")
        print(frame.to_string(float_format=lambda v: f"{v:.4f}"))
    if "backtest" in lab:
        table = backtest_frame(lab["backtest"])
        table.columns = [c if c == "test" else display_name(c) for c in table.columns]
        refit = "refitted" if lab["backtest"]["refit"] else "not refitted"
        print(f"\nWalk-forward backtest, RMSE per fold (networks {refit}):")
        print(table.to_string(float_format=lambda v: f"{v:.4f}"))
