"""1 · Training: ``train_model`` (XLA, one call per epoch) vs plain Keras ``fit``.

Usage (from the repository root)::

    python -m bench.training [--quick] [--json]

The tutorial config on the MasterCard windows, LSTM, GRU and SimpleRNN, each
model's two runs back to back with the order alternating; plus the arithmetic
floor (matmul FLOPs per epoch and numpy's matmul rates).
"""

from __future__ import annotations

import gc
import sys
import time
import timeit
from typing import Any

import numpy as np

from bench import reference_keras as ref
from bench.common import (
    KINDS,
    LABELS,
    Clock,
    collect_loads,
    failed_row,
    log,
    mastercard,
    measurement_main,
    span,
    yes,
)

TARGET = "training"  # its name in run.py --targets
GOAL_TRAIN_RATIO = 0.4  # ours / reference wall time, at most
GOAL_RMSE_WORSE = 0.05  # ours may be at most 5 % worse than the reference


def _our_rmse(model: Any, data: ref.Prepared) -> float:
    from forecasting.nn.predict import predict_one_step

    pred = data.scaler.inverse_transform(predict_one_step(model, data.x_test))
    return ref.rmse(data.test_raw, pred)


def _warm_up(x: np.ndarray, y: np.ndarray) -> None:
    """Pay TensorFlow's and XLA's one-time process start-up outside the timings."""
    from forecasting.nn.training import train_model
    from forecasting.settings.config import ModelConfig, TrainConfig

    ref.reference_train("gru", x[:64], y[:64], units=4, epochs=1)
    train_model("gru", x[:64], y[:64], ModelConfig(units=4), TrainConfig(epochs=1))
    gc.collect()


def matmul_rates() -> dict[str, float]:
    """numpy float32 GFLOP/s: a large matmul, and the tutorial's per-step matmul.

    One recurrent step of a batch of 32 with 125 units is ``(32, 126) @ (126, 4 *
    125)`` for the LSTM: about 4 MFLOP, too small to keep two cores busy.
    """
    rng = np.random.default_rng(0)
    big = rng.random((1024, 1024), dtype=np.float32)
    a = rng.random((32, 126), dtype=np.float32)
    w = rng.random((126, 500), dtype=np.float32)
    t_big = min(timeit.repeat(lambda: big @ big, number=5, repeat=5)) / 5
    n_small = 2000
    t_small = min(timeit.repeat(lambda: a @ w, number=n_small, repeat=5)) / n_small
    return {
        "large_gflops": round(2 * 1024**3 / t_big / 1e9, 1),
        "step_gflops": round(2 * 32 * 126 * 500 / t_small / 1e9, 1),
        "step_matmul_us": round(t_small * 1e6, 2),
    }


def epoch_gflop(kind: str, samples: int, window: int, features: int, units: int):
    """Matmul FLOPs of one training epoch (forward + backward ~ 3x forward)."""
    gates = {"lstm": 4, "gru": 3, "simple_rnn": 1}[kind]
    forward = samples * window * 2 * (features + units) * gates * units
    return round(3 * forward / 1e9, 1)


def measure(quick: bool) -> dict[str, Any]:
    import keras

    from forecasting.nn.training import train_model
    from forecasting.prep.windows import make_windows
    from forecasting.settings.config import ModelConfig, TrainConfig

    epochs = 5 if quick else ref.EPOCHS
    data = mastercard()
    x, y = data.x_train, data.y_train
    mx, my = make_windows(data.train_scaled, ref.WINDOW)
    same_windows = bool(np.array_equal(mx, x) and np.array_equal(my, y))
    log(f"training: warm-up (TF and XLA start-up), then {epochs} epochs per model")
    _warm_up(x, y)
    rows = []
    for i, kind in enumerate(KINDS):
        order = ("reference", "ours") if i % 2 == 0 else ("ours", "reference")
        row: dict[str, Any] = {"kind": kind, "order": list(order)}
        for who in order:
            gc.collect()
            log(f"training: {LABELS[kind]} {who}, {epochs} epochs")
            epoch_ends: list[float] = []
            with Clock() as clock:
                if who == "reference":
                    model, fit_s = ref.reference_train(
                        KINDS[kind], x, y, epochs=epochs, seed=ref.SEED
                    )
                else:
                    result = train_model(
                        kind,
                        x,
                        y,
                        ModelConfig(),
                        TrainConfig(epochs=epochs),
                        progress=lambda *_, ends=epoch_ends: ends.append(
                            time.perf_counter()
                        ),
                    )
                    model, fit_s = result.model, result.fit_seconds
            fit_start = clock.start + clock.wall - fit_s  # fit ends with the call
            if who == "reference":
                rmse = ref.mastercard_test_rmse(model, data)
                loss = float(model.history.history["loss"][-1])
            else:
                rmse = _our_rmse(model, data)
                loss = float(result.history["loss"][-1])
                ends = [fit_start, *epoch_ends]
                per_epoch = np.diff(ends)
                row["ours_first_epoch_s"] = round(float(per_epoch[0]), 2)
                if len(per_epoch) > 1:
                    row["ours_steady_epoch_s"] = round(
                        float(np.median(per_epoch[1:])), 3
                    )
            row[who] = {
                "wall_s": round(clock.wall, 2),
                "cpu_s": round(clock.cpu, 2),
                "fit_s": round(fit_s, 2),
                "test_rmse": round(rmse, 4),
                "final_loss": loss,
                "load": clock.load,
            }
            log(
                f"training: {LABELS[kind]} {who}: {clock.wall:.1f} s wall, "
                f"{clock.cpu:.1f} s CPU, test RMSE {rmse:.4f}"
            )
            del model
            keras.backend.clear_session()
        r, o = row["reference"], row["ours"]
        row["wall_ratio"] = round(o["wall_s"] / r["wall_s"], 3)
        row["cpu_ratio"] = round(o["cpu_s"] / r["cpu_s"], 3)
        row["ref_mean_epoch_s"] = round(r["fit_s"] / epochs, 3)
        row["rmse_diff"] = round((o["test_rmse"] - r["test_rmse"]) / r["test_rmse"], 5)
        row["gflop_per_epoch"] = epoch_gflop(
            kind, len(x), x.shape[1], x.shape[2], ref.UNITS
        )
        rows.append(row)
    total = {
        who: {
            key: round(sum(row[who][key] for row in rows), 2)
            for key in ("wall_s", "cpu_s")
        }
        for who in ("reference", "ours")
    }
    log("training: numpy matmul rates (for the arithmetic floor)")
    return {
        "epochs": epochs,
        "samples": len(x),
        "batches_per_epoch": int(np.ceil(len(x) / ref.BATCH_SIZE)),
        "window": int(x.shape[1]),
        "same_windows_as_make_windows": same_windows,
        "models": rows,
        "total": total,
        "wall_ratio": round(total["ours"]["wall_s"] / total["reference"]["wall_s"], 3),
        "cpu_ratio": round(total["ours"]["cpu_s"] / total["reference"]["cpu_s"], 3),
        "worst_rmse_diff": max(row["rmse_diff"] for row in rows),
        "matmul": matmul_rates(),
    }


CHILDREN = {TARGET: measure}  # one fresh interpreter


def report(results: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Its rows of the summary table and its section of BENCHMARKS.md."""
    tr = results.get("training", {})
    if "error" in tr or not tr:
        return [failed_row(1, "training", f"≤ {GOAL_TRAIN_RATIO}x", tr)], []
    lines: list[str] = []
    e = tr["epochs"]
    ld = span(collect_loads(tr["models"]))
    t = tr["total"]
    lines.append(
        f"| 1 | Training, LSTM + GRU + SimpleRNN, {e} epochs, wall time | "
        f"{t['reference']['wall_s']:.1f} s | {t['ours']['wall_s']:.1f} s | "
        f"{tr['wall_ratio']:.2f}x | ≤ {GOAL_TRAIN_RATIO}x | "
        f"{yes(tr['wall_ratio'] <= GOAL_TRAIN_RATIO)} | {ld} |"
    )
    lines.append(
        f"| 1 | same, CPU time (all threads) | {t['reference']['cpu_s']:.1f} s | "
        f"{t['ours']['cpu_s']:.1f} s | {tr['cpu_ratio']:.2f}x | (info) | - | "
        f"{ld} |"
    )
    worst = max(tr["models"], key=lambda r: r["rmse_diff"])
    lines.append(
        f"| 1 | Test RMSE, worst model ({LABELS[worst['kind']]}) | "
        f"{worst['reference']['test_rmse']:.4f} | "
        f"{worst['ours']['test_rmse']:.4f} | {worst['rmse_diff']:+.2%} | "
        f"≤ +{GOAL_RMSE_WORSE:.0%} | "
        f"{yes(tr['worst_rmse_diff'] <= GOAL_RMSE_WORSE)} | {ld} |"
    )
    return lines, training_detail(tr)


def training_detail(tr: dict[str, Any]) -> list[str]:
    e = tr["epochs"]
    mm = tr["matmul"]
    out = [
        "## 1 · Training",
        "",
        f"MasterCard High, train 2016-2020 ({tr['samples']} windows of "
        f"{tr['window']}, {tr['batches_per_epoch']} batches of 32), test 2021 on; "
        f"125 units, RMSprop, MSE, batch 32, {e} epochs, seed 455. Reference: "
        "`reference_train` (plain `Sequential`, `fit` with defaults, float64 "
        "input). Ours: `forecasting.nn.training.train_model` with the default "
        "`TrainConfig` (XLA, one compiled call per epoch). Same windows (the "
        "tutorial's loop and `make_windows` give identical arrays: "
        f"{tr['same_windows_as_make_windows']}), same seed. Each model's two runs "
        "are back to back, the order alternating between models; times cover "
        "build + compile + fit. TensorFlow's and XLA's one-time process start-up "
        "is paid before timing by a tiny fit on each path.",
        "",
        "| model | order | reference wall / CPU s | ours wall / CPU s | wall ratio |"
        " CPU ratio | ours first epoch (compile) s | ours s/epoch after | reference "
        "mean s/epoch | test RMSE ref / ours ($) | RMSE diff | load (1 min) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in tr["models"]:
        rf, o = r["reference"], r["ours"]
        out.append(
            f"| {LABELS[r['kind']]} | {' → '.join(r['order'])} | "
            f"{rf['wall_s']:.1f} / {rf['cpu_s']:.1f} | {o['wall_s']:.1f} / "
            f"{o['cpu_s']:.1f} | **{r['wall_ratio']:.2f}x** | {r['cpu_ratio']:.2f}x | "
            f"{r.get('ours_first_epoch_s', float('nan')):.2f} | "
            f"{r.get('ours_steady_epoch_s', float('nan')):.3f} | "
            f"{r['ref_mean_epoch_s']:.3f} | {rf['test_rmse']:.4f} / "
            f"{o['test_rmse']:.4f} | {r['rmse_diff']:+.3%} | "
            f"{span(rf['load'] + o['load'])} |"
        )
    t = tr["total"]
    out += [
        f"| **total** | | {t['reference']['wall_s']:.1f} / "
        f"{t['reference']['cpu_s']:.1f} | {t['ours']['wall_s']:.1f} / "
        f"{t['ours']['cpu_s']:.1f} | **{tr['wall_ratio']:.2f}x** | "
        f"{tr['cpu_ratio']:.2f}x | | | | | | |",
        "",
        "**Arithmetic floor.** Matmul work per epoch (forward + backward ≈ 3x "
        "forward): "
        + ", ".join(
            f"{LABELS[r['kind']]} {r['gflop_per_epoch']} GFLOP" for r in tr["models"]
        )
        + f". numpy (float32) reaches {mm['large_gflops']} GFLOP/s on a 1024² "
        f"matmul here, but only {mm['step_gflops']} GFLOP/s on the tutorial's "
        f"per-step matmul (32 x 126 by 126 x 500, {mm['step_matmul_us']} µs "
        "each): batch 32 gives matmuls too small to share between two cores or "
        "to amortize the call. On top of that the 60 time steps of a window are "
        "sequential (step t needs step t-1), forward and backward, so one epoch "
        f"is {tr['batches_per_epoch']} x 60 x 2 dependent small steps, each with "
        "several element-wise ops whose fixed per-op cost is comparable to the "
        "matmul itself.",
        "",
    ]
    steady = [
        (r, r.get("ours_steady_epoch_s"))
        for r in tr["models"]
        if r.get("ours_steady_epoch_s")
    ]
    if steady:
        out += [
            "| model | GFLOP/epoch | floor at the large-matmul rate s | floor at the "
            "per-step rate s | ours s/epoch (after compile) | µs per recurrent "
            "step (fwd+bwd) | of which matmul at the per-step rate µs |",
            "|---|---|---|---|---|---|---|",
        ]
        for r, s in steady:
            g = r["gflop_per_epoch"]
            steps = tr["batches_per_epoch"] * tr["window"]
            out.append(
                f"| {LABELS[r['kind']]} | {g} | {g / mm['large_gflops']:.2f} | "
                f"{g / mm['step_gflops']:.2f} | {s:.3f} | {s / steps * 1e6:.0f} | "
                f"{g / mm['step_gflops'] / steps * 1e6:.0f} |"
            )
        out.append("")
    return out


if __name__ == "__main__":
    raise SystemExit(measurement_main(sys.modules[__name__]))
