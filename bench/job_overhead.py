"""What a warm Quick-demo job costs outside its fit: fast predict vs ``model.predict``.

Usage (from the repository root)::

    python -m bench.job_overhead    # about a minute

For each model kind of the price page's Quick demo (32 units, 10 epochs, the
MasterCard sample), one :class:`forecasting.nn.jobs.FitJob` runs once in this process
to compile its trainer, then six more times with other seeds, alternating between
:func:`forecasting.nn.fastpath.predict` (one traced forward pass per architecture)
and a plain ``model.predict`` (a new trace per model). It prints the median time
of the whole job, of its fit, and of the rest (test and calibration predictions,
packaging the model), side by side.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import replace

import numpy as np

from forecasting.analysis.compare import plan_comparison
from forecasting.data.samples import load_sample
from forecasting.nn import fastpath
from forecasting.settings.config import ExperimentConfig

QUICK_UNITS, QUICK_EPOCHS = 32, 10


def plain_predict(model, x: np.ndarray, batch_size: int) -> np.ndarray:
    """What :func:`forecasting.nn.predict.predict_one_step` did before the fast path."""
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0))


def timed(job, seed: int) -> tuple[float, float]:
    """``(whole job, fit)`` seconds of one run of ``job`` with ``seed``."""
    start = time.perf_counter()
    result = replace(job, seed=seed).run(lambda _: None)
    return time.perf_counter() - start, result.fit_seconds


def main() -> int:
    base = ExperimentConfig()
    config = replace(
        base,
        model=replace(base.model, units=QUICK_UNITS),
        train=replace(base.train, epochs=QUICK_EPOCHS),
    )
    plan = plan_comparison(load_sample("mastercard").frame, config)
    fast = fastpath.predict
    print("| model | predict | job (s) | fit (s) | outside the fit (s) |")
    print("| --- | --- | ---: | ---: | ---: |")
    for job in plan.jobs:
        timed(job, 1)  # compiles the trainer
        rows: dict[str, list[tuple[float, float]]] = {"fast": [], "plain": []}
        for seed in range(2, 8):
            name = "fast" if seed % 2 else "plain"
            fastpath.predict = fast if name == "fast" else plain_predict
            try:
                rows[name].append(timed(job, seed))
            finally:
                fastpath.predict = fast
        for name, runs in rows.items():
            total = statistics.median(r[0] for r in runs)
            fit = statistics.median(r[1] for r in runs)
            print(
                f"| {job.kind} | {name} | {total:.2f} | {fit:.2f} | {total - fit:.2f} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
