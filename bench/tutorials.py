"""Reproduce the tutorial presets 1 and 2 over several seeds and write docs/RESULTS.md.

Usage (from the repository root; every section trains 50 epochs per seed):

    python -m bench.tutorials            # every section, 5 seeds
    python -m bench.tutorials --sections mastercard-diff   # only that section
    python -m bench.tutorials --seeds 2 --epochs 3 --out /tmp/r.md   # a quick look

Sections: ``mastercard`` (preset 1 as the tutorial ran it, the price level),
``mastercard-diff`` (the same with ``--target diff``, the day-to-day change) and
``fly`` (preset 2). With ``--sections`` only those are measured again; the other
sections of ``--out`` are kept as they were, and every section says when and how
it was measured.

It calls exactly what the app and the CLI call (``run_comparison`` with the
preset's config and ``--seeds``), and prints the Markdown it writes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pandas as pd

from forecasting.analysis.compare import (
    BASELINE_LABELS,
    Comparison,
    apply_to,
    rollout_error,
    run_comparison,
)
from forecasting.analysis.intervals import model_intervals
from forecasting.analysis.lab import report_lines, skill_and_lag, transfer_skill_and_lag
from forecasting.data import load_sample, series_frame
from forecasting.metrics import rmse
from forecasting.settings.config import MODEL_LABELS
from forecasting.settings.presets import get_preset

ROOT = Path(__file__).resolve().parent.parent


def _fmt(row: pd.Series, key: str) -> str:
    std = row.get(f"{key}_std")
    if std is not None and pd.notna(std):
        return f"{row[key]:.2f} ± {std:.2f}"
    return f"{row[key]:.2f}"


def _progress(kind: str, epoch: int, epochs: int, logs: dict[str, float]) -> None:
    if epoch == epochs or epoch % 25 == 0:
        print(
            f"  [{MODEL_LABELS[kind]}] {epoch}/{epochs} loss {logs['loss']:.6f}",
            file=sys.stderr,
            flush=True,
        )


def _mastercard_config(seeds: int, epochs: int | None, target: str):
    preset = get_preset("mastercard-lstm-vs-gru")
    config = replace(preset.config, models=("lstm", "gru", "simple_rnn"), target=target)
    config = replace(config, train=replace(config.train, seeds=seeds))
    if epochs:
        config = replace(config, train=replace(config.train, epochs=epochs))
    return preset, config


def mastercard(seeds: int, epochs: int | None) -> list[str]:
    preset, config = _mastercard_config(seeds, epochs, "level")
    frame, _ = series_frame(load_sample(preset.sample), config.columns)
    result = run_comparison(frame, config, progress=_progress)
    lines = [
        f"### 1. `{preset.name}`: {preset.title}",
        "",
        f"{replace(preset, config=config).describe()} "
        f"({config.train.seed}..{config.train.seed + config.train.seeds - 1}).",
        "",
        "| model | tutorial's test RMSE | ours: RMSE (mean ± std) | MAE | MAPE % |",
        "|---|---|---|---|---|",
    ]
    for name, row in result.metrics.iterrows():
        reported = preset.reported.get(row["kind"])
        lines.append(
            f"| {name} | {reported if reported else '-'} | {_fmt(row, 'rmse')} | "
            f"{_fmt(row, 'mae')} | {_fmt(row, 'mape')} |"
        )
    return lines + lab_lines(result, "coordinate")


def mastercard_diff(seeds: int, epochs: int | None) -> list[str]:
    preset, config = _mastercard_config(seeds, epochs, "diff")
    frame, _ = series_frame(load_sample(preset.sample), config.columns)
    result = run_comparison(frame, config, progress=_progress)
    persistence = result.metrics.loc[BASELINE_LABELS["persistence"], "rmse"]
    first, last = config.train.seed, config.train.seed + config.train.seeds - 1
    lines = [
        f"### 2. `{preset.name} --target diff`: the same, modelling the day-to-day "
        "change",
        "",
        f"{replace(preset, config=config).describe()} "
        f"({first}..{last}). The networks predict tomorrow's change from the last "
        f"{config.window} changes; it is added to today's real value, and the "
        "errors are those of the resulting levels, on the same rows as section 1.",
        "",
        "| model | RMSE (mean ± std) | MAE | MAPE % | RMSE per seed | seeds with "
        "RMSE below persistence |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in result.metrics.iterrows():
        run = result.runs.get(row["kind"])
        if run is None:
            per_seed, below = "-", "-"
        else:
            errors = [rmse(result.actual, p) for p in run.seed_predictions]
            per_seed = ", ".join(f"{e:.2f}" for e in errors)
            below = f"{sum(e < persistence for e in errors)} of {len(errors)}"
        lines.append(
            f"| {name} | {_fmt(row, 'rmse')} | {_fmt(row, 'mae')} | "
            f"{_fmt(row, 'mape')} | {per_seed} | {below} |"
        )
    return lines + lab_lines(result, "coordinate")


def fly(seeds: int, epochs: int | None) -> list[str]:
    preset = get_preset("fly-gru")
    config = replace(preset.config, train=replace(preset.config.train, seeds=seeds))
    if epochs:
        config = replace(config, train=replace(config.train, epochs=epochs))
    data = load_sample(preset.sample)
    needed = config.split.train_rows + config.split.test_rows
    frames = {
        who: series_frame(data, config.columns, who, min_rows=needed)[0]
        for who in (preset.individual, preset.transfer_to)
    }
    result = run_comparison(
        frames[preset.individual],
        config,
        progress=_progress,
        rollout_steps=preset.rollout,
    )
    rollout = rollout_error(result)
    other = apply_to(result, frames[preset.transfer_to])
    lines = [
        f"### 3. `{preset.name}`: {preset.title}",
        "",
        f"{replace(preset, config=config).describe()}. "
        "Errors in pixels (the fly's chamber is about 181 x 40 px).",
        "",
        f"| model | one-step Euclidean ({preset.individual}) | one-step RMSE | "
        f"free run {preset.rollout} steps, Euclidean | one-step Euclidean "
        f"({preset.transfer_to}, same model) | skill vs persistence, best lag "
        f"({preset.transfer_to}) |",
        "|---|---|---|---|---|---|",
    ]
    moved = transfer_skill_and_lag(other)
    for name, row in result.metrics.iterrows():
        kind = row["kind"]
        free = f"{rollout[kind]:.2f}" if kind in rollout else "-"
        transfer = _fmt(other.metrics.loc[name], "euclidean")
        lines.append(
            f"| {name} | {_fmt(row, 'euclidean')} | {_fmt(row, 'rmse')} | {free} | "
            f"{transfer} | {_skill_lag(moved[kind])} |"
        )
    return lines + lab_lines(result, "distance")


def _skill_lag(values: dict) -> str:
    skill, lag = values["skill"], values["best_lag"]
    return (
        f"{'-' if pd.isna(skill) else f'{skill:+.3f}'}, "
        f"{'-' if lag is None else f'{lag:+d}'}"
    )


def lab_lines(result: Comparison, method: str, coverage: float = 0.8) -> list[str]:
    """The teaching lab's view of a section: skill, best lag, interval, verdicts.

    Skill is against persistence; the best lag is the shift at which the
    forecast's changes match the real ones best (+1: one step late, i.e.
    copying); the split-conformal interval is calibrated on the tail of the
    training windows and its coverage measured on the test rows.
    """
    values = skill_and_lag(result)
    intervals = model_intervals(result, coverage, method)
    held_out = all(i.held_out for i in intervals.values())
    lines = [
        "",
        f"| model | skill vs persistence | best lag | {coverage:.0%} interval: "
        "coverage on the test rows |",
        "|---|---|---|---|",
    ]
    for name, row in result.metrics.iterrows():
        kind = row["kind"]
        skill, lag = values[kind]["skill"], values[kind]["best_lag"]
        reached = intervals.get(kind)
        lines.append(
            f"| {name} | {'-' if pd.isna(skill) else f'{skill:+.3f}'} | "
            f"{'-' if lag is None else f'{lag:+d}'} | "
            f"{'-' if reached is None else f'{reached.coverage:.1%}'} |"
        )
    if not held_out:
        lines += [
            "",
            "The interval's calibration rows were part of the fit (no early "
            "stopping), so it is likely too narrow.",
        ]
    verdicts = report_lines(result)
    return lines + ([""] + [f"- {line}" for line in verdicts] if verdicts else [])


SECTIONS: dict[str, Callable[[int, int | None], list[str]]] = {
    "mastercard": mastercard,
    "mastercard-diff": mastercard_diff,
    "fly": fly,
}
"""Every section of docs/RESULTS.md by name, in the file's order."""

_MARK = "<!-- section: {} -->"
_MARK_RE = re.compile(r"^<!-- section: ([a-z-]+) -->$", re.MULTILINE)


def split_sections(text: str) -> dict[str, str]:
    """Return the sections of a results file by name, each from its marker on.

    Args:
        text: A file written by this script.

    Returns:
        Section name -> its Markdown (marker line included, trailing blank lines
        stripped); empty if the file has no section markers.
    """
    marks = list(_MARK_RE.finditer(text))
    if not marks:
        return {}
    ends = [m.start() for m in marks[1:]] + [len(text)]
    return {
        m.group(1): text[m.start() : end].rstrip()
        for m, end in zip(marks, ends, strict=True)
    }


def check_kept(measuring: set[str], old_text: str | None) -> None:
    """Stop before any training if a section to keep is not in the results file.

    Args:
        measuring: Names of the sections this run measures.
        old_text: The results file as it is (``None`` if there is none).

    Raises:
        SystemExit: If a section not measured now is missing from ``old_text``.
    """
    old = split_sections(old_text or "")
    missing = [name for name in SECTIONS if name not in measuring | set(old)]
    if missing:
        raise SystemExit(
            f"error: the results file has no section {', '.join(missing)}; "
            "measure it too (add it to --sections, or leave --sections out)"
        )


def merge_sections(new: dict[str, str], old_text: str | None) -> list[str]:
    """Put freshly measured sections and the kept ones in the file's order.

    Args:
        new: Section name -> Markdown measured in this run.
        old_text: The results file as it was (``None`` if there is none).

    Returns:
        The sections' Markdown in :data:`SECTIONS` order, numbered 1, 2, ...

    Raises:
        SystemExit: If a section not measured now is missing from ``old_text``.
    """
    old = split_sections(old_text or "")
    check_kept(set(new), old_text)
    blocks = []
    for number, name in enumerate(SECTIONS, start=1):
        block = new.get(name, old.get(name))
        blocks.append(re.sub(r"^### \d+\. ", f"### {number}. ", block, flags=re.M))
    return blocks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, help="override the presets' epochs")
    parser.add_argument(
        "--sections",
        nargs="+",
        choices=list(SECTIONS),
        help="measure only these sections and keep the others of --out (all)",
    )
    parser.add_argument("--out", default=str(ROOT / "docs" / "RESULTS.md"))
    args = parser.parse_args()
    import tensorflow as tf

    names = args.sections or list(SECTIONS)
    out = Path(args.out)
    old_text = out.read_text() if args.sections and out.exists() else None
    check_kept(set(names), old_text)
    command = " ".join(
        ["python -m bench.tutorials", f"--seeds {args.seeds}"]
        + ([f"--epochs {args.epochs}"] if args.epochs else [])
        + ([f"--sections {' '.join(args.sections)}"] if args.sections else [])
    )
    measured = (
        f"Measured by `{command}` on {dt.date.today():%Y-%m-%d}: "
        f"{os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), "
        f"TensorFlow {tf.__version__}, no GPU."
    )
    new = {}
    for name in SECTIONS:
        if name in names:
            lines = SECTIONS[name](args.seeds, args.epochs)
            new[name] = "\n".join(
                [_MARK.format(name), lines[0], "", measured] + lines[1:]
            )
    header = [
        "# Tutorial experiments, reproduced",
        "",
        "Made by `python -m bench.tutorials` (`--sections NAME ...` measures only "
        "those sections again and keeps the others); each section says when, how "
        "and on what it was measured. One-step forecasts of each test row from the "
        "real window before it; errors in original units; baselines scored on "
        "exactly the same rows.",
        "",
    ]
    body = "\n\n".join(merge_sections(new, old_text))
    text = "\n".join(header) + "\n" + body + "\n"
    out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
