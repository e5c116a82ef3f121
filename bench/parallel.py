"""Speed from parallel jobs: the engine's workers against fits one after another.

Usage (from the repository root)::

    python -m bench.parallel           # the published numbers (about 11 min)
    python -m bench.parallel --quick   # 5 epochs, a minute or two

Two measurements, each side by side in one run, reported as ratios:

1. The tutorial comparison (LSTM + GRU + SimpleRNN, 50 epochs, MasterCard):
   plain Keras (``bench/reference_keras.py``) one model after another in this
   process, against ``run_comparison`` on the local engine (warm workers, one
   per core, with and without the spare), with each model's test RMSE.
2. Five seeds of the tutorial GRU: the same ``run_comparison`` on an engine with
   one worker and no spare (the five fits one after another, with every core)
   against an engine with one worker per core, with and without its spare.

The parallel side is the command line's engine: one worker per core and one
spare (:data:`forecasting.cli.parser.CLI_SURGE`), which the lone run's next job takes
when every worker runs a long job, so a round of one job does not leave a core
idle; it starts (importing TensorFlow) only then, inside the timing.

It writes ``bench/results/parallel.json``, prints a Markdown table and (without
``--quick``) puts it into BENCHMARKS.md's ``parallel`` section.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench import reference_keras as ref
from bench.sections import replace_section
from forecasting.analysis.compare import run_comparison
from forecasting.cli.parser import CLI_SURGE
from forecasting.data import load_sample, series_frame
from forecasting.runtime.engine import Engine
from forecasting.runtime.local import LocalBackend, cores
from forecasting.settings.config import (
    WORKER_INITIALIZER,
    ExperimentConfig,
    TrainConfig,
)

HERE = Path(__file__).resolve().parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

KINDS = {"lstm": "lstm", "gru": "gru", "simple_rnn": "simplernn"}
GOAL_COMPARISON = 0.5
GOAL_SEEDS = 0.6


def log(message: str) -> None:
    load = os.getloadavg()[0]
    print(
        f"[parallel {time.strftime('%H:%M:%S')} load {load:.1f}] {message}",
        file=sys.stderr,
        flush=True,
    )


def warm_engine(workers: int, surge: int) -> Engine:
    """An engine whose regular workers have all imported TensorFlow."""
    engine = Engine(LocalBackend(workers, surge=surge, initializer=WORKER_INITIALIZER))
    deadline = time.monotonic() + 300
    while engine.backend.ready_workers() < workers and time.monotonic() < deadline:
        time.sleep(0.2)
    return engine


def plain_keras(epochs: int) -> dict[str, Any]:
    import keras

    data = ref.load_mastercard()
    out: dict[str, Any] = {}
    started = time.perf_counter()
    for kind, ref_kind in KINDS.items():
        model, fit_s = ref.reference_train(
            ref_kind, data.x_train, data.y_train, epochs=epochs
        )
        out[kind] = {
            "fit_s": round(fit_s, 2),
            "rmse": round(ref.mastercard_test_rmse(model, data), 4),
        }
        log(f"plain Keras {kind}: {fit_s:.1f} s, RMSE {out[kind]['rmse']}")
        keras.backend.clear_session()
    out["wall_s"] = round(time.perf_counter() - started, 2)
    return out


def ours(config: ExperimentConfig, workers: int, surge: int) -> dict[str, Any]:
    frame, _ = series_frame(load_sample("mastercard"), config.columns)
    # Every engine's workers start with an empty compile cache: none loads what
    # an earlier engine of this run compiled.
    os.environ["FORECASTING_COMPILE_CACHE"] = tempfile.mkdtemp(prefix="parallel-xla-")
    engine = warm_engine(workers, surge)
    try:
        started = time.perf_counter()
        result = run_comparison(frame, config, engine=engine)
        wall = time.perf_counter() - started
        processes = len(engine.backend.pids())
    finally:
        engine.shutdown()
    table = result.metrics
    rows = {r["kind"]: round(float(r["rmse"]), 4) for _, r in table.iterrows()}
    log(f"ours on {workers} worker(s), {processes} processes: {wall:.1f} s, {rows}")
    return {
        "workers": workers,
        "surge": surge,
        "processes": processes,
        "wall_s": round(wall, 2),
        "rmse": rows,
    }


def measure(quick: bool, workers: int | None = None) -> dict[str, Any]:
    epochs = 5 if quick else 50
    tutorial = ExperimentConfig(train=TrainConfig(epochs=epochs))
    n = workers or cores()
    log(f"1. tutorial comparison, {epochs} epochs: plain Keras, then {n} workers")
    keras_run = plain_keras(epochs)
    ours_run = ours(tutorial, n, CLI_SURGE)
    ours_no_spare = ours(tutorial, n, 0)
    seeds = replace(tutorial, models=("gru",), train=replace(tutorial.train, seeds=5))
    log("2. five GRU seeds: one worker, one per core + spare, one per core")
    one = ours(seeds, 1, 0)
    many = ours(seeds, n, CLI_SURGE)
    no_spare = ours(seeds, n, 0)  # what the spare adds, in the same run
    rmse_diff = {
        kind: round(ours_run["rmse"][kind] / keras_run[kind]["rmse"] - 1, 5)
        for kind in KINDS
    }
    return {
        "date": time.strftime("%Y-%m-%d"),
        "cores": cores(),
        "workers": n,
        "epochs": epochs,
        "comparison": {
            "keras": keras_run,
            "ours": ours_run,
            "ratio": round(ours_run["wall_s"] / keras_run["wall_s"], 3),
            "no_spare": ours_no_spare,
            "no_spare_ratio": round(ours_no_spare["wall_s"] / keras_run["wall_s"], 3),
            "no_spare_same_rmse": ours_no_spare["rmse"] == ours_run["rmse"],
            "rmse_rel_diff": rmse_diff,
        },
        "seeds": {
            "one_worker": one,
            "workers": many,
            "ratio": round(many["wall_s"] / one["wall_s"], 3),
            "no_spare": no_spare,
            "no_spare_ratio": round(no_spare["wall_s"] / one["wall_s"], 3),
        },
    }


def _flag(r: dict[str, Any]) -> str:
    return "" if r["workers"] == r["cores"] else f" --workers {r['workers']}"


def _met(ok: bool) -> str:
    return "met" if ok else "not met"


def _engine(run: dict[str, Any]) -> str:
    """``"2 workers + 1 spare, 3 processes"``: what one side ran on."""
    spare = f" + {run['surge']} spare" if run.get("surge") else ""
    n = run.get("processes")
    used = f", {n} process{'es' * (n > 1)}" if n else ""
    return f"{run['workers']} worker{'s' * (run['workers'] > 1)}{spare}{used}"


def _no_spare_row(side: dict[str, Any], before_s: float) -> list[str]:
    """The row of the same work on the engine without its spare worker."""
    if "no_spare" not in side:
        return []
    return [
        f"| The same without the spare ({_engine(side['no_spare'])}) | "
        f"{before_s:.1f} s | {side['no_spare']['wall_s']:.1f} s | "
        f"{side['no_spare_ratio']:.2f}x | – |"
    ]


def render(r: dict[str, Any]) -> str:
    c, s = r["comparison"], r["seeds"]
    worst = max(abs(v) for v in c["rmse_rel_diff"].values())
    return "\n".join(
        [
            f"Measured {r['date']}, {r['cores']} cores, {r['epochs']} epochs "
            f"(`python -m bench.parallel{_flag(r)}`).",
            "",
            "| | one after another | on the engine's workers | ratio | goal |",
            "|---|---|---|---|---|",
            f"| Tutorial comparison, LSTM + GRU + SimpleRNN (plain Keras vs ours, "
            f"{_engine(c['ours'])}) | {c['keras']['wall_s']:.1f} s | "
            f"{c['ours']['wall_s']:.1f} s | **{c['ratio']:.2f}x** | <= "
            f"{GOAL_COMPARISON}x, {_met(c['ratio'] <= GOAL_COMPARISON)} |",
            *_no_spare_row(c, c["keras"]["wall_s"]),
            f"| Five GRU seeds (ours: {_engine(s['one_worker'])} vs "
            f"{_engine(s['workers'])}) | "
            f"{s['one_worker']['wall_s']:.1f} s | {s['workers']['wall_s']:.1f} s | "
            f"**{s['ratio']:.2f}x** | <= {GOAL_SEEDS}x, "
            f"{_met(s['ratio'] <= GOAL_SEEDS)} |",
            *_no_spare_row(s, s["one_worker"]["wall_s"]),
            "",
            "Test RMSE, plain Keras vs ours: "
            + ", ".join(
                f"{k} {c['keras'][k]['rmse']:.4f} vs {c['ours']['rmse'][k]:.4f}"
                for k in KINDS
            )
            + f" (largest relative difference {worst:.2%})"
            + (
                "; without the spare the same to 4 decimals."
                if c.get("no_spare_same_rmse")
                else "."
            ),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--workers", type=int, help="workers of the parallel engine (one per core)"
    )
    parser.add_argument("--out", default=str(HERE / "results" / "parallel.json"))
    args = parser.parse_args(argv)
    results = measure(args.quick, args.workers)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    markdown = render(results)
    if not args.quick:
        name = "parallel" if results["workers"] == results["cores"] else "parallel_more"
        replace_section(
            name, f"## Parallel jobs, {results['workers']} workers\n\n" + markdown
        )
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
