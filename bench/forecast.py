"""2 · Free-run forecast: ``free_run`` (one XLA loop) vs ``model.predict`` per step.

Usage (from the repository root)::

    python -m bench.forecast [--quick] [--json]

A fly GRU trained the tutorial's way; 1000 recursive steps from the last training
window, the reference loop in chunks with a compiled ``free_run`` between them;
then 5 flies in one batch against one.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from bench import reference_keras as ref
from bench.common import (
    Clock,
    close,
    collect_loads,
    failed_row,
    log,
    max_rel_diff,
    measurement_main,
    span,
    yes,
)

TARGET = "forecast"  # its name in run.py --targets
GOAL_FORECAST_SPEEDUP = 50.0  # reference / ours, at least
GOAL_BATCH5_RATIO = 5.0  # 5 individuals / 1, well under


def _fly_start_windows(scaler: Any, ids: list[str], n_train: int) -> np.ndarray:
    """Last training window (rows n_train-60 .. n_train-1) of each fly, scaled."""
    from forecasting.data import load_sample

    tracks = load_sample("fly")
    frame = tracks.frame
    windows = []
    for fly in ids:
        rows = frame.loc[frame[tracks.id_column] == fly, ["X", "Y"]].to_numpy(
            dtype=np.float64
        )
        windows.append(scaler.transform(rows[n_train - ref.WINDOW : n_train]))
    return np.stack(windows)


def measure(quick: bool) -> dict[str, Any]:
    from forecasting.data import sample_path
    from forecasting.nn.predict import free_run

    steps = 1000
    ref_steps = 100 if quick else steps
    chunk = 50 if quick else 100
    repeats = 3 if quick else 5
    train_epochs = 2 if quick else 3
    data = ref.load_fly(path=sample_path("fly"), fly_id="Fly_1", n_train=2000)
    log(f"forecast: training the fly GRU ({train_epochs} epochs, speed only)")
    # Trained the tutorial's way, so that its model.predict is the tutorial's
    # (no XLA); free_run compiles its own loop whatever the model was compiled with.
    model, _ = ref.reference_train(
        "gru", data.x_train, data.y_train, epochs=train_epochs
    )
    start = data.train_scaled[-ref.WINDOW :]

    log(f"forecast: free_run {steps} steps, first call (XLA compile included)")
    with Clock() as first:
        ours = free_run(model, start, steps)
    ours_steady: list[float] = []
    ref_parts: list[np.ndarray] = []
    ref_times: list[float] = []
    ref_loads: list[float] = []
    window = np.array(start, dtype=np.float64)
    done = 0
    while done < ref_steps:
        n = min(chunk, ref_steps - done)
        with Clock() as clock:
            part = ref.reference_rollout(model, window, n)
        ref_parts.append(part)
        ref_times.append(clock.wall)
        ref_loads.append(clock.load_after)
        # the tutorial's loop goes on from exactly this window
        window = np.vstack([window, part])[-ref.WINDOW :]
        done += n
        with Clock() as clock:
            free_run(model, start, steps)
        ours_steady.append(clock.wall)
        log(
            f"forecast: reference {done}/{ref_steps} steps "
            f"({sum(ref_times):.1f} s so far); free_run {clock.wall:.3f} s"
        )
    reference = np.concatenate(ref_parts)
    ref_seconds = sum(ref_times)
    ref_1000 = ref_seconds * steps / ref_steps
    steady = float(np.median(ours_steady))
    compared = ours[:ref_steps]

    # 5 individuals at once vs one.
    ids = ["Fly_1", "Fly_2", "Fly_3", "Fly_4", "Fly_5"]
    starts = _fly_start_windows(data.scaler, ids, 2000)
    log("forecast: 5 individuals in one batch, first call (compiles for batch 5)")
    with Clock() as first5:
        batched = free_run(model, starts, steps)
    free_run(model, starts[0], steps)  # compiled for both shapes before timing
    t1, t5, loads = [], [], []
    for _ in range(repeats):
        with Clock() as c1:
            free_run(model, starts[0], steps)
        with Clock() as c5:
            free_run(model, starts, steps)
        t1.append(c1.wall)
        t5.append(c5.wall)
        loads.append(c5.load_after)
    single5 = [free_run(model, s, steps) for s in starts]
    return {
        "steps": steps,
        "train_epochs": train_epochs,
        "ref_steps_timed": ref_steps,
        "ref_extrapolated": ref_steps != steps,
        "ref_seconds_timed": round(ref_seconds, 2),
        "ref_seconds_per_step": round(ref_seconds / ref_steps, 4),
        "ref_seconds_1000": round(ref_1000, 2),
        "ref_loads": ref_loads,
        "ours_first_s": round(first.wall, 3),
        "ours_first_load": first.load,
        "ours_steady_s": round(steady, 4),
        "ours_steady_all": [round(t, 4) for t in ours_steady],
        "speedup_first": round(ref_1000 / first.wall, 1),
        "speedup_steady": round(ref_1000 / steady, 1),
        "max_rel_diff": max_rel_diff(compared, reference),
        "max_abs_diff": float(np.max(np.abs(compared - reference))),
        "allclose": close(compared, reference),
        "batch5_first_s": round(first5.wall, 3),
        "batch1_steady_s": round(float(np.median(t1)), 4),
        "batch5_steady_s": round(float(np.median(t5)), 4),
        "batch5_ratio": round(float(np.median(t5)) / float(np.median(t1)), 2),
        "batch_loads": loads,
        "batch_vs_single_max_rel": max(
            max_rel_diff(batched[i], single5[i]) for i in range(len(ids))
        ),
        "batch_vs_single_close": all(
            close(batched[i], single5[i]) for i in range(len(ids))
        ),
        "batched_fly1_vs_ref_close": close(batched[0][:ref_steps], reference),
    }


CHILDREN = {TARGET: measure}  # one fresh interpreter


def report(results: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Its rows of the summary table and its section of BENCHMARKS.md."""
    fc = results.get("forecast", {})
    if "error" in fc or not fc:
        goal = f"≥ {GOAL_FORECAST_SPEEDUP:.0f}x faster"
        return [failed_row(2, "free run", goal, fc)], []
    lines: list[str] = []
    ext = " (extrapolated)" if fc["ref_extrapolated"] else ""
    ld = span(collect_loads(fc))
    met = fc["speedup_first"] >= GOAL_FORECAST_SPEEDUP and fc["allclose"]
    lines.append(
        f"| 2 | Free run, {fc['steps']} steps, fly GRU, first call "
        f"(compile included) | {fc['ref_seconds_1000']:.1f} s{ext} | "
        f"{fc['ours_first_s']:.2f} s | {fc['speedup_first']:.0f}x faster | "
        f"≥ {GOAL_FORECAST_SPEEDUP:.0f}x, rel. diff ≤ 1e-4 | {yes(met)} "
        f"(max rel. diff {fc['max_rel_diff']:.1e}) | {ld} |"
    )
    lines.append(
        f"| 2 | same, later calls (compiled) | {fc['ref_seconds_1000']:.1f} s"
        f"{ext} | {fc['ours_steady_s']:.3f} s | {fc['speedup_steady']:.0f}x "
        f"faster | (info) | - | {ld} |"
    )
    lines.append(
        f"| 2 | 5 individuals in one batch vs 1 | {fc['batch1_steady_s']:.3f} s "
        f"(1) | {fc['batch5_steady_s']:.3f} s (5) | {fc['batch5_ratio']:.2f}x | "
        f"< {GOAL_BATCH5_RATIO:.0f}x | "
        f"{yes(fc['batch5_ratio'] < GOAL_BATCH5_RATIO)} | "
        f"{span(fc['batch_loads'])} |"
    )
    return lines, forecast_detail(fc)


def forecast_detail(fc: dict[str, Any]) -> list[str]:
    ext = (
        f" The reference loop was timed for {fc['ref_steps_timed']} steps and "
        f"extrapolated linearly to {fc['steps']} (quick run)."
        if fc["ref_extrapolated"]
        else ""
    )
    return [
        "## 2 · Free-run forecast",
        "",
        "Fly sample, `Fly_1` X/Y, first 2000 rows train, window 60, a GRU of 125 "
        f"units trained for {fc['train_epochs']} epochs with `reference_train` "
        "(quality does not matter for speed; its `predict` is the tutorial's, "
        "without XLA). Both paths start from the last training "
        "window and feed every prediction back in. Reference: `reference_rollout` "
        "(`model.predict` per step, the tutorial's loop); ours: "
        "`forecasting.nn.predict.free_run` (one XLA-compiled `tf.while_loop`). The "
        "reference loop runs in chunks (continuing from the same window, so the "
        "numbers are those of one long loop), with a compiled `free_run` call "
        f"between chunks to share the machine's noise.{ext}",
        "",
        "| measurement | seconds | vs reference | load (1 min) |",
        "|---|---|---|---|",
        f"| reference, {fc['ref_steps_timed']} steps timed | "
        f"{fc['ref_seconds_timed']:.2f} ({fc['ref_seconds_per_step'] * 1e3:.1f} "
        f"ms/step) | 1x | {span(fc['ref_loads'])} |",
        f"| reference, {fc['steps']} steps | {fc['ref_seconds_1000']:.2f} | 1x | |",
        f"| `free_run` first call (trace + XLA compile + run) | "
        f"{fc['ours_first_s']:.3f} | **{fc['speedup_first']:.0f}x faster** | "
        f"{span(fc['ours_first_load'])} |",
        f"| `free_run` later calls (median of {len(fc['ours_steady_all'])}) | "
        f"{fc['ours_steady_s']:.4f} | **{fc['speedup_steady']:.0f}x faster** | |",
        f"| `free_run`, 5 flies in one batch, first call | {fc['batch5_first_s']:.3f}"
        " | | |",
        f"| `free_run`, 1 fly, later calls (median) | {fc['batch1_steady_s']:.4f} | "
        "| |",
        f"| `free_run`, 5 flies in one batch, later calls (median) | "
        f"{fc['batch5_steady_s']:.4f} | **{fc['batch5_ratio']:.2f}x the time of "
        f"one** | {span(fc['batch_loads'])} |",
        "",
        f"Numbers (scaled units, over the {fc['ref_steps_timed']} compared steps): "
        f"max |ours − ref| / max(|ref|, 1e-3) = {fc['max_rel_diff']:.2e}, max abs "
        f"diff {fc['max_abs_diff']:.2e}, `np.allclose(rtol=1e-4, atol=1e-6)`: "
        f"{fc['allclose']}. Batched vs one-by-one `free_run`: max rel. diff "
        f"{fc['batch_vs_single_max_rel']:.2e} (allclose {fc['batch_vs_single_close']}"
        f"); batched Fly_1 vs the reference: allclose "
        f"{fc['batched_fly1_vs_ref_close']}. XLA changes float rounding only.",
        "",
    ]


if __name__ == "__main__":
    raise SystemExit(measurement_main(sys.modules[__name__]))
