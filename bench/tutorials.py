"""Reproduce the tutorial presets 1 and 2 over several seeds and write docs/RESULTS.md.

Usage (from the repository root; about half an hour on a 2-core CPU):

    python bench/tutorials.py            # 5 seeds, full 50 epochs
    python bench/tutorials.py --seeds 2 --epochs 3   # a quick look

It calls exactly what the app and the CLI call (``run_comparison`` with the
preset's config and ``--seeds``), and prints the Markdown it writes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from forecasting.compare import apply_to, rollout_error, run_comparison  # noqa: E402
from forecasting.config import MODEL_LABELS  # noqa: E402
from forecasting.data import load_sample, series_frame  # noqa: E402
from forecasting.presets import get_preset  # noqa: E402


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


def mastercard(seeds: int, epochs: int | None) -> list[str]:
    preset = get_preset("mastercard-lstm-vs-gru")
    config = replace(preset.config, models=("lstm", "gru", "simple_rnn"))
    config = replace(config, train=replace(config.train, seeds=seeds))
    if epochs:
        config = replace(config, train=replace(config.train, epochs=epochs))
    frame, _ = series_frame(load_sample(preset.sample), config.columns)
    result = run_comparison(frame, config, progress=_progress)
    lines = [
        f"### 1. `{preset.name}`: {preset.title}",
        "",
        f"{replace(preset, config=config).describe()}; {config.train.seeds} seeds "
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
    return lines


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
        tracks=True,
    )
    rollout = rollout_error(result)
    other = apply_to(result, frames[preset.transfer_to])
    lines = [
        f"### 2. `{preset.name}`: {preset.title}",
        "",
        f"{replace(preset, config=config).describe()}; {config.train.seeds} seeds. "
        "Errors in pixels (the fly's chamber is about 181 x 40 px).",
        "",
        f"| model | one-step Euclidean ({preset.individual}) | one-step RMSE | "
        f"free run {preset.rollout} steps, Euclidean | one-step Euclidean "
        f"({preset.transfer_to}, same model) |",
        "|---|---|---|---|---|",
    ]
    for name, row in result.metrics.iterrows():
        kind = row["kind"]
        free = f"{rollout[kind]:.2f}" if kind in rollout else "-"
        transfer = _fmt(other.metrics.loc[name], "euclidean")
        lines.append(
            f"| {name} | {_fmt(row, 'euclidean')} | {_fmt(row, 'rmse')} | {free} | "
            f"{transfer} |"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, help="override the presets' epochs")
    parser.add_argument("--out", default=str(ROOT / "docs" / "RESULTS.md"))
    args = parser.parse_args()
    import tensorflow as tf

    header = [
        "# Tutorial experiments, reproduced",
        "",
        f"Made by `python bench/tutorials.py --seeds {args.seeds}"
        f"{f' --epochs {args.epochs}' if args.epochs else ''}` on "
        f"{dt.date.today():%Y-%m-%d}: {os.cpu_count()} CPU cores "
        f"({platform.processor() or platform.machine()}), TensorFlow {tf.__version__}, "
        "no GPU. One-step forecasts of each test row from the real window before it; "
        "errors in original units; baselines scored on exactly the same rows.",
        "",
    ]
    body = mastercard(args.seeds, args.epochs) + [""] + fly(args.seeds, args.epochs)
    text = "\n".join(header + body) + "\n"
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
