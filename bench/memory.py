"""5 · Memory: resident memory over train-and-discard cycles, ours and plain Keras.

Usage (from the repository root)::

    python -m bench.memory [--quick] [--json]

Four paths, each in its own interpreter: ours as shipped, ours with new units
every cycle (XLA on and off), and plain Keras; each cycle trains, predicts,
free-runs and drops the three models, then reads VmRSS.
"""

from __future__ import annotations

import functools
import gc
import sys
import time
from typing import Any

from bench import reference_keras as ref
from bench.common import (
    KINDS,
    failed_row,
    load1,
    log,
    mastercard,
    measurement_main,
    span,
    vmrss_mb,
    yes,
)

TARGET = "memory"  # its name in run.py --targets
GOAL_MEMORY_GROWTH = 0.15  # RSS growth from cycle 1 to the last, below


MEMORY_MODES = {
    "ours": "ours, as shipped (XLA on), same settings every cycle",
    "ours_varied": "ours (XLA on), new units every cycle (no reuse)",
    "ours_varied_nojit": "ours, `jit_compile=False`, new units every cycle",
    "reference": "plain Keras (`reference_*`), same settings every cycle",
}


def memory_cycles(mode: str, cycles: int, units: int, epochs: int) -> dict[str, Any]:
    """Train, predict, free-run and drop the three models, ``cycles`` times.

    ``ours_varied*`` modes change the number of units every cycle, so that no
    compiled trainer or free-run loop can be reused: the worst case for memory.
    """
    import weakref

    from forecasting.nn import predict
    from forecasting.nn.training import train_model
    from forecasting.settings.config import ModelConfig, TrainConfig

    jit = not mode.endswith("nojit")
    varied = mode.startswith("ours_varied")
    data = mastercard()
    x, y, x_test = data.x_train, data.y_train, data.x_test
    start = data.train_scaled[-ref.WINDOW :]
    rss, objects, models = [], [], []
    t0 = time.perf_counter()
    for cycle in range(cycles):
        cycle_units = units + cycle if varied else units
        for kind in KINDS:
            if mode.startswith("ours"):
                model = train_model(
                    kind,
                    x,
                    y,
                    ModelConfig(units=cycle_units),
                    TrainConfig(epochs=epochs, jit_compile=jit),
                ).model
                predict.predict_one_step(model, x_test)
                predict.free_run(model, start, 50, jit_compile=jit)
            else:
                model, _ = ref.reference_train(
                    KINDS[kind], x, y, units=units, epochs=epochs
                )
                ref.reference_predict(model, x_test)
                ref.reference_rollout(model, start, 10)
            models.append(weakref.ref(model))
            del model
        gc.collect()
        rss.append(vmrss_mb())
        objects.append(len(gc.get_objects()))
        log(f"memory {mode}: cycle {cycle + 1}/{cycles}: RSS {rss[-1]} MB")
    return {
        "mode": mode,
        "cycles": cycles,
        "units": units,
        "epochs": epochs,
        "rss_mb": rss,
        "gc_objects": objects,
        "models_alive": sum(m() is not None for m in models),
        "models_trained": len(models),
        "growth": round((rss[-1] - rss[0]) / rss[0], 4),
        "growth_mb": round(rss[-1] - rss[0], 1),
        "growth_mb_per_cycle": round((rss[-1] - rss[0]) / max(1, cycles - 1), 1),
        "seconds": round(time.perf_counter() - t0, 1),
        "load": load1(),
    }


def measure(quick: bool, mode: str) -> dict[str, Any]:
    return memory_cycles(mode, cycles=3 if quick else 10, units=32, epochs=1)


# one fresh interpreter per path
CHILDREN = {
    f"memory_{mode}": functools.partial(measure, mode=mode) for mode in MEMORY_MODES
}


def report(results: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Its rows of the summary table and its section of BENCHMARKS.md."""
    mo, mr = results.get("memory_ours", {}), results.get("memory_reference", {})
    if "error" in mo or not mo:
        return [failed_row(5, "memory", f"< {GOAL_MEMORY_GROWTH:.0%}", mo)], []
    lines: list[str] = []
    ref_cell = "-"
    if mr and "error" not in mr:
        ref_cell = (
            f"{mr['rss_mb'][0]:.0f} → {mr['rss_mb'][-1]:.0f} MB ({mr['growth']:+.1%})"
        )
    lines.append(
        f"| 5 | RSS after cycle 1 → {mo['cycles']}, train-and-discard of 3 "
        f"models | {ref_cell} | {mo['rss_mb'][0]:.0f} → {mo['rss_mb'][-1]:.0f} "
        f"MB | {mo['growth']:+.1%} | < +{GOAL_MEMORY_GROWTH:.0%} | "
        f"{yes(mo['growth'] < GOAL_MEMORY_GROWTH)} | "
        f"{span([mo['load'], mr.get('load', float('nan'))])} |"
    )
    for mode in ("ours_varied", "ours_varied_nojit"):
        r = results.get(f"memory_{mode}", {})
        if r and "error" not in r:
            lines.append(
                f"| 5 | same, {MEMORY_MODES[mode]} | | {r['rss_mb'][0]:.0f} → "
                f"{r['rss_mb'][-1]:.0f} MB | {r['growth']:+.1%} | (info) | "
                f"{yes(r['growth'] < GOAL_MEMORY_GROWTH)} | {r['load']:.1f} |"
            )
    return lines, memory_detail(results)


def memory_detail(results: dict[str, Any]) -> list[str]:
    runs = {m: results.get(f"memory_{m}", {}) for m in MEMORY_MODES}
    mo = runs["ours"]
    out = [
        "## 5 · Memory",
        "",
        "One process per path; each cycle trains the three models on the "
        f"MasterCard windows ({mo['units']} units, {mo['epochs']} epoch), predicts "
        "the test windows and free-runs 50 steps (reference: 10 `predict` steps), "
        "then drops every reference and calls `gc.collect()`. VmRSS from "
        "`/proc/self/status` after each cycle; *models alive* counts weak "
        "references to the trained models that still resolve at the end. Ours: "
        "`train_model` + `predict_one_step` + `free_run`; reference: "
        "`reference_train` + `reference_predict` + `reference_rollout` (plain "
        "Keras, no clean-up). The *new units every cycle* rows train models "
        f"of {mo['units']}, {mo['units'] + 1}, ... units, one size per cycle, so "
        "nothing compiled can be reused.",
        "",
        "| path | RSS per cycle (MB) | growth cycle 1 → last | MB per cycle | "
        "models alive | gc objects cycle 1 → last | seconds | load (1 min) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for mode, r in runs.items():
        name = MEMORY_MODES[mode]
        if not r or "error" in r:
            out.append(f"| {name} | failed: {r.get('error', 'not run')} |||||||")
            continue
        out.append(
            f"| {name} | {', '.join(f'{x:.0f}' for x in r['rss_mb'])} | "
            f"{r['growth_mb']:+.1f} MB ({r['growth']:+.1%}) | "
            f"{r['growth_mb_per_cycle']:+.1f} | {r['models_alive']} of "
            f"{r['models_trained']} | {r['gc_objects'][0]:,} → "
            f"{r['gc_objects'][-1]:,} | {r['seconds']:.0f} | {r['load']:.1f} |"
        )
    out += [
        "",
        "What keeps our path flat: (1) `train_model` releases the graphs each "
        "`fit` leaves in TensorFlow's gradient registry; (2) compiled work is "
        "shared by architecture, not tied to a model: one compiled trainer per "
        "setting (`forecasting.nn.fastpath._compiled_trainer`; a fit copies the new "
        "model's seeded weights in and the trained ones out) and one compiled "
        "free-run "
        "loop per architecture (`forecasting.nn.fastpath._rollout`), so no cache "
        "holds a trained model (*models alive*). What remains: with XLA, "
        "TensorFlow keeps every compiled executable in a process-wide cache "
        "without eviction (`tensorflow/compiler/jit/device_compilation_cache.h`; "
        "tensorflow/tensorflow#64170); `clear_session()`, clearing the eager "
        "kernel cache and `malloc_trim` do not release it. So each *new* "
        "setting (another size, window, optimizer...) still costs its compiled "
        "code for the life of the process (the XLA *new units* row); without XLA "
        "it does not.",
        "",
    ]
    return out


if __name__ == "__main__":
    raise SystemExit(measurement_main(sys.modules[__name__]))
