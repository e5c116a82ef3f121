"""How much the compile cache grows per setting: ``python -m bench.cache_size``.

Usage (from the repository root)::

    python -m bench.cache_size    # about a minute

One worker process with an empty compile cache folder fits one job per setting:
the three model kinds of the price page at two window lengths (the MasterCard
sample, 32 units, 1 epoch, XLA on as by default), then the tracking page's
default GRU with its free run of 1000 steps (Fly_1, 1 epoch). After each fit
it prints the folder's size; at the end, the mean growth per price setting.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from pathlib import Path

from forecasting.analysis.compare import plan_comparison
from forecasting.data import series_frame
from forecasting.data.samples import load_sample
from forecasting.runtime.engine import Engine
from forecasting.runtime.local import LocalBackend
from forecasting.settings.config import (
    TRACKS_DEFAULT,
    WORKER_INITIALIZER,
    ExperimentConfig,
    ModelConfig,
    TrainConfig,
)

WINDOWS = (10, 20)


def folder_mb(folder: Path) -> float:
    """Megabytes of every file under ``folder``."""
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6


def jobs() -> list:
    """One fit job per price setting (each kind and window), then the tracks one."""
    frame, _ = series_frame(load_sample("mastercard"), ("High",))
    base = ExperimentConfig(
        model=ModelConfig(units=32), train=TrainConfig(epochs=1, seed=1)
    )
    price = [
        job
        for window in WINDOWS
        for job in plan_comparison(frame, replace(base, window=window)).jobs
    ]
    fly = load_sample("fly")
    track, _ = series_frame(fly, TRACKS_DEFAULT.columns, fly.ids()[0])
    config = replace(TRACKS_DEFAULT, train=TrainConfig(epochs=1, seed=1))
    return [*price, *plan_comparison(track, config, rollout_steps=1000).jobs]


def main() -> None:
    """Fit each setting once in a fresh worker; print the cache's growth."""
    folder = Path(tempfile.mkdtemp(prefix="forecasting-cache-size-"))
    os.environ["FORECASTING_COMPILE_CACHE"] = str(folder)  # read by the worker
    engine = Engine(
        LocalBackend(
            workers=1, threads=1, prepare=False, initializer=WORKER_INITIALIZER
        )
    )
    sizes = [folder_mb(folder)]
    try:
        for job in jobs():
            engine.gather([engine.submit(job, "bench")])
            sizes.append(folder_mb(folder))
            grew = sizes[-1] - sizes[-2]
            setting = f"{job.kind:<10} window {job.config.window:>2}"
            print(f"{setting}: cache {sizes[-1]:6.2f} MB (+{grew:.2f})")
    finally:
        engine.shutdown()
    price = len(WINDOWS) * 3
    mean = (sizes[price] - sizes[0]) / price
    print(f"mean growth: {mean:.2f} MB per price setting")


if __name__ == "__main__":
    main()
