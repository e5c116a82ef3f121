"""Benchmarks of issue 5: our code and the plain tutorial code, side by side.

Usage (from the repository root)::

    python bench/run.py            # full run, the published numbers (~20-30 min)
    python bench/run.py --quick    # a few minutes: fewer epochs, steps and cycles

It runs five targets, each in its own subprocess (so that TensorFlow state, XLA
caches and resident memory of one target do not leak into the next), and writes
``BENCHMARKS.md`` in the repository root. Progress goes to stderr.

1. ``training``: ``forecasting.training.train_model`` (XLA, one call per epoch)
   vs ``reference_train`` (plain ``Sequential`` + ``fit``), the tutorial config.
2. ``forecast``: ``forecasting.predict.free_run`` (one XLA ``tf.while_loop``)
   vs ``reference_rollout`` (one ``model.predict`` per step) on a fly GRU.
3. ``windows``: ``forecasting.windows.make_windows`` vs the tutorial's loop.
4. ``app``: ``streamlit run app.py`` until the first complete page in headless
   Chromium, vs a one-line Streamlit app.
5. ``memory``: resident memory over train-and-discard cycles, ours and plain Keras.

The machine is shared and timings are noisy, so every comparison is measured in
the same process, back to back or interleaved, and reported as a ratio; the
1-minute load average (``os.getloadavg()``) is recorded beside every figure.
The plain reference code is ``bench/reference_keras.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import importlib.metadata
import json
import logging
import os
import platform
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
for _path in (str(ROOT), str(HERE)):
    if _path not in sys.path:
        sys.path.insert(0, _path)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import reference_keras as ref  # noqa: E402
from sections import keep_sections  # noqa: E402

TARGETS = ("training", "forecast", "windows", "app", "memory")
OUT = ROOT / "BENCHMARKS.md"

# Goals of issue 5.
GOAL_TRAIN_RATIO = 0.4  # ours / reference wall time, at most
GOAL_RMSE_WORSE = 0.05  # ours may be at most 5 % worse than the reference
GOAL_FORECAST_SPEEDUP = 50.0  # reference / ours, at least
GOAL_BATCH5_RATIO = 5.0  # 5 individuals / 1, well under
GOAL_WINDOWS_SPEEDUP = 100.0  # loop / make_windows, at least
GOAL_MEMORY_GROWTH = 0.15  # RSS growth from cycle 1 to the last, below

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# kind names: ours (forecasting.config.MODEL_KINDS) -> the reference's
KINDS = {"lstm": "lstm", "gru": "gru", "simple_rnn": "simplernn"}
LABELS = {"lstm": "LSTM", "gru": "GRU", "simple_rnn": "SimpleRNN"}


# --------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------


def log(message: str) -> None:
    """Progress line on stderr, with the time and the 1-minute load average."""
    stamp = time.strftime("%H:%M:%S")
    print(f"[bench {stamp} load {load1():.1f}] {message}", file=sys.stderr, flush=True)


def load1() -> float:
    """The 1-minute load average."""
    return round(os.getloadavg()[0], 2)


def vmrss_mb(pid: int | str = "self") -> float:
    """Resident memory (VmRSS) of a process in MB, from ``/proc/<pid>/status``."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def max_rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    """``max |a - b| / max(|b|, 1e-3)`` elementwise: relative, safe near zero."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-3)))


def close(a: np.ndarray, b: np.ndarray) -> bool:
    """``np.allclose(a, b, rtol=1e-4, atol=1e-6)`` with equal shapes."""
    return bool(np.shape(a) == np.shape(b) and np.allclose(a, b, rtol=1e-4, atol=1e-6))


class Clock:
    """Wall (``perf_counter``) and CPU (``process_time``) time of a block.

    CPU time covers every thread of the process (TensorFlow's pools included) and
    is less distorted by other processes on the machine than the wall time.
    """

    def __enter__(self) -> Clock:
        self.load_before = load1()
        self.start = time.perf_counter()
        self._cpu = time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.start
        self.cpu = time.process_time() - self._cpu
        self.load_after = load1()

    @property
    def load(self) -> list[float]:
        return [self.load_before, self.load_after]


def jsonable(value: Any) -> Any:
    """Plain JSON types from numpy scalars/arrays, recursively."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def cpu_model() -> str:
    """CPU model name from ``/proc/cpuinfo`` (or ``lscpu``), with its flags of note."""
    name, flags = "", set()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as info:
        for line in info:
            key, _, value = line.partition(":")
            if key.strip() == "model name" and not name:
                name = value.strip()
            if key.strip() == "flags" and not flags:
                flags = set(value.split())
    if not name:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                ["lscpu"], capture_output=True, text=True, timeout=10
            ).stdout
            for line in out.splitlines():
                if line.startswith("Model name:"):
                    name = line.split(":", 1)[1].strip()
    simd = [f for f in ("avx2", "fma", "avx512f", "avx512_bf16") if f in flags]
    return f"{name or 'unknown'} ({', '.join(simd) or 'no AVX2'})"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, Any]:
    """What the numbers were measured on (without importing TensorFlow)."""
    mem_gb = float("nan")
    with contextlib.suppress(OSError), open("/proc/meminfo") as info:
        for line in info:
            if line.startswith("MemTotal:"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    tf = _version("tensorflow")
    if tf == "not installed":
        tf = _version("tensorflow-cpu")
    return {
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "ram_gb": mem_gb,
        "python": platform.python_version(),
        "tensorflow": tf,
        "keras": _version("keras"),
        "numpy": _version("numpy"),
        "streamlit": _version("streamlit"),
        "os": platform.platform(),
    }


# --------------------------------------------------------------------------------
# 1 · Training
# --------------------------------------------------------------------------------


def _mastercard() -> ref.Prepared:
    """The tutorial's MasterCard windows (High, 2016-2020, window 60), float64."""
    from forecasting.data import sample_path

    return ref.load_mastercard(path=sample_path("mastercard"))


def _our_rmse(model: Any, data: ref.Prepared) -> float:
    from forecasting.predict import predict_one_step

    pred = data.scaler.inverse_transform(predict_one_step(model, data.x_test))
    return ref.rmse(data.test_raw, pred)


def _warm_up(x: np.ndarray, y: np.ndarray) -> None:
    """Pay TensorFlow's and XLA's one-time process start-up outside the timings."""
    from forecasting.config import ModelConfig, TrainConfig
    from forecasting.training import train_model

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


def target_training(quick: bool) -> dict[str, Any]:
    import keras

    from forecasting.config import ModelConfig, TrainConfig
    from forecasting.training import train_model
    from forecasting.windows import make_windows

    epochs = 5 if quick else ref.EPOCHS
    data = _mastercard()
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


# --------------------------------------------------------------------------------
# 2 · Free-run forecast
# --------------------------------------------------------------------------------


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


def target_forecast(quick: bool) -> dict[str, Any]:
    from forecasting.data import sample_path
    from forecasting.predict import free_run

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


# --------------------------------------------------------------------------------
# 3 · Windows
# --------------------------------------------------------------------------------


def windows_candidates(values: np.ndarray, window: int) -> dict[str, Callable]:
    """The tutorial loop, ``make_windows`` and what bounds it from below."""
    from numpy.lib.stride_tricks import sliding_window_view

    from forecasting.windows import make_windows

    n = len(values) - window
    shape = (n, window, values.shape[1])

    def view_only():
        return sliding_window_view(values, window, axis=0)[:-1].transpose(0, 2, 1)

    def alloc_and_write():  # the floor: a fresh output array, written once
        out = np.empty(shape, values.dtype)
        out.fill(0)
        return out

    def copyto_prealloc():  # prototype: empty + copyto (same as make_windows)
        out = np.empty(shape, values.dtype)
        np.copyto(out, view_only())
        return out, values[window:].copy()

    return {
        "loop": lambda: ref.python_loop_windows(values, window),
        "make_windows": lambda: make_windows(values, window),
        "view_only": view_only,
        "alloc_and_write": alloc_and_write,
        "empty_copyto": copyto_prealloc,
    }


def windows_agree(values: np.ndarray, window: int) -> dict[str, Any]:
    """Do ``make_windows`` and the tutorial loop give identical arrays?"""
    from forecasting.windows import make_windows

    x0, y0 = ref.python_loop_windows(values, window)
    x1, y1 = make_windows(values, window)
    return {
        "identical": bool(
            np.array_equal(x0, x1)
            and np.array_equal(y0, y1)
            and x0.dtype == x1.dtype
            and y0.dtype == y1.dtype
        ),
        "shape": list(x1.shape),
        "dtype": str(x1.dtype),
        "c_contiguous": bool(x1.flags.c_contiguous and y1.flags.c_contiguous),
        "loop_dtype": str(x0.dtype),
    }


def target_windows(quick: bool) -> dict[str, Any]:
    rows, window = 100_000, ref.WINDOW
    rounds = 3 if quick else 7
    rng = np.random.default_rng(455)
    series = rng.standard_normal((rows, 2))
    out: dict[str, Any] = {"rows": rows, "window": window, "rounds": rounds}
    for dtype in ("float64", "float32"):
        values = series.astype(dtype)
        out[dtype] = windows_agree(values, window)
        candidates = windows_candidates(values, window)
        best = {name: float("inf") for name in candidates}
        loads = []
        for _ in range(rounds):  # interleaved rounds, best of all
            for name, fn in candidates.items():
                number = 1 if name == "loop" else 5
                for _ in range(number):
                    t0 = time.perf_counter()
                    result = fn()
                    best[name] = min(best[name], time.perf_counter() - t0)
                    del result
            loads.append(load1())
        out[dtype].update(
            {f"{k}_ms": round(v * 1e3, 3) for k, v in best.items()}
            | {
                "speedup": round(best["loop"] / best["make_windows"], 1),
                "loop_vs_floor": round(best["loop"] / best["alloc_and_write"], 1),
                "make_windows_vs_floor": round(
                    best["make_windows"] / best["alloc_and_write"], 2
                ),
                "output_mb": round(
                    (rows - window) * window * 2 * values.itemsize / 1e6, 1
                ),
                "loads": loads,
            }
        )
        log(
            f"windows {dtype}: loop {best['loop'] * 1e3:.1f} ms, make_windows "
            f"{best['make_windows'] * 1e3:.2f} ms, floor "
            f"{best['alloc_and_write'] * 1e3:.2f} ms"
        )
        # The loop's two halves: its Python body (as written in the tutorial),
        # then the conversion of the lists (np.array + reshape).
        t0 = time.perf_counter()
        xs, ys = [], []
        for i in range(len(values)):
            end_ix = i + window
            if end_ix > len(values) - 1:
                break
            xs.append(values[i:end_ix])
            ys.append(values[end_ix])
        t1 = time.perf_counter()
        np.array(xs).reshape(len(xs), window, 2)
        np.array(ys).reshape(len(ys), 2)
        t2 = time.perf_counter()
        out[dtype]["loop_list_ms"] = round((t1 - t0) * 1e3, 1)
        out[dtype]["loop_np_array_ms"] = round((t2 - t1) * 1e3, 1)
    with contextlib.suppress(ImportError, AttributeError):
        from numpy._core import multiarray

        out["numpy_hugepages"] = bool(multiarray._get_madvise_hugepage())
    return out


# --------------------------------------------------------------------------------
# 4 · App start
# --------------------------------------------------------------------------------

SCRIPT_DONE_JS = """(expected) => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app) return false;
    if (app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (expected === 'chart') {
        const title = document.querySelector('h1');
        return !!(title && title.innerText.includes('Price forecasting'));
    }
    const text = document.querySelector('[data-testid="stMarkdownContainer"]');
    return !!(text && text.innerText.includes('hello'));
}"""

DONE_JS = """(expected) => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app) return false;
    if (app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
    const busy = '[data-testid="stSkeleton"], [data-testid="stSpinner"], '
        + '[data-testid="stStatusWidget"]';
    if (document.querySelector(busy)) return false;
    if (expected === 'chart') {
        const title = document.querySelector('h1');
        return !!(title && title.innerText.includes('Price forecasting')
            && document.querySelector('[data-testid="stPlotlyChart"] .main-svg'));
    }
    const text = document.querySelector('[data-testid="stMarkdownContainer"]');
    return !!(text && text.innerText.includes('hello'));
}"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    """Stop the server we started (its own process group), then kill if needed."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
        if process.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=wait)


def _tf_mapped(pid: int) -> bool:
    """Whether a TensorFlow shared library is mapped into the process."""
    try:
        with open(f"/proc/{pid}/maps") as maps:
            return any("tensorflow" in line for line in maps)
    except OSError:
        return False


def app_start_once(browser: Any, app_file: Path, cwd: Path, expected: str) -> dict:
    """Launch ``streamlit run`` and time it to the first complete page."""
    port = _free_port()
    workdir = Path(tempfile.mkdtemp(prefix="bench-app-"))
    cache = workdir / "cache"
    cache.mkdir()
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_file),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    env = {
        **os.environ,
        "RNN_FORECAST_CACHE": str(cache),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONUNBUFFERED": "1",
    }
    url = f"http://127.0.0.1:{port}"
    load_before = load1()
    with open(workdir / "server.log", "wb") as server_log:
        t0 = time.perf_counter()
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=server_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    context = None
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"streamlit exited with {process.returncode}: "
                    + (workdir / "server.log").read_text(errors="replace")[-2000:]
                )
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.perf_counter() - t0 > 120:
                raise RuntimeError("streamlit did not answer within 120 s")
            time.sleep(0.05)
        t_health = time.perf_counter()
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(url, wait_until="commit", timeout=120_000)
        page.wait_for_function(
            SCRIPT_DONE_JS, arg=expected, timeout=120_000, polling=50
        )
        t_script = time.perf_counter()
        page.wait_for_function(DONE_JS, arg=expected, timeout=120_000, polling=50)
        t_done = time.perf_counter()
        exceptions = page.locator('[data-testid="stException"]').count()
        return {
            "seconds": round(t_done - t0, 3),
            "server_ready_s": round(t_health - t0, 3),
            "page_s": round(t_done - t_health, 3),
            "script_done_s": round(t_script - t0, 3),
            "server_rss_mb": vmrss_mb(process.pid),
            "tensorflow_loaded": _tf_mapped(process.pid),
            "exceptions_on_page": exceptions,
            "load": [load_before, load1()],
        }
    finally:
        if context is not None:
            with contextlib.suppress(Exception):
                context.close()
        _stop(process)


def target_app(quick: bool) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    runs = 1 if quick else 3
    tmp = Path(tempfile.mkdtemp(prefix="bench-hello-"))
    hello = tmp / "hello.py"
    hello.write_text('import streamlit as st\n\nst.write("hello")\n')
    apps = {
        "app": (ROOT / "app.py", ROOT, "chart"),
        "hello": (hello, tmp, "hello"),
    }
    results: dict[str, list[dict]] = {"app": [], "hello": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            warm = browser.new_page()  # browser start-up outside the timings
            warm.goto("about:blank")
            warm.close()
            for i in range(runs):
                order = ("app", "hello") if i % 2 == 0 else ("hello", "app")
                for name in order:
                    app_file, cwd, expected = apps[name]
                    log(f"app: run {i + 1}/{runs}, {name}")
                    res = app_start_once(browser, app_file, cwd, expected)
                    log(
                        f"app: {name} complete after {res['seconds']:.2f} s "
                        f"(server ready {res['server_ready_s']:.2f} s), RSS "
                        f"{res['server_rss_mb']} MB, TF loaded: "
                        f"{res['tensorflow_loaded']}"
                    )
                    results[name].append(res)
        finally:
            browser.close()
    med = {
        name: round(statistics.median(r["seconds"] for r in rs), 3)
        for name, rs in results.items()
    }
    return {
        "runs": runs,
        "app_runs": results["app"],
        "hello_runs": results["hello"],
        "app_median_s": med["app"],
        "hello_median_s": med["hello"],
        "ratio": round(med["app"] / med["hello"], 2),
        "app_tf_loaded": any(r["tensorflow_loaded"] for r in results["app"]),
        "app_rss_mb": statistics.median(r["server_rss_mb"] for r in results["app"]),
        "hello_rss_mb": statistics.median(r["server_rss_mb"] for r in results["hello"]),
    }


# --------------------------------------------------------------------------------
# 5 · Memory
# --------------------------------------------------------------------------------


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

    from forecasting import predict
    from forecasting.config import ModelConfig, TrainConfig
    from forecasting.training import train_model

    jit = not mode.endswith("nojit")
    varied = mode.startswith("ours_varied")
    data = _mastercard()
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


def target_memory(quick: bool, mode: str) -> dict[str, Any]:
    return memory_cycles(mode, cycles=3 if quick else 10, units=32, epochs=1)


# --------------------------------------------------------------------------------
# Orchestration
# --------------------------------------------------------------------------------

CHILDREN = {
    "training": lambda quick: target_training(quick),
    "forecast": lambda quick: target_forecast(quick),
    "windows": lambda quick: target_windows(quick),
    "app": lambda quick: target_app(quick),
    **{
        f"memory_{mode}": (lambda quick, mode=mode: target_memory(quick, mode))
        for mode in MEMORY_MODES
    },
}


def run_child(name: str, quick: bool) -> dict[str, Any]:
    """Run one target in a fresh interpreter; its result is the last stdout line."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", name]
    if quick:
        command.append("--quick")
    started = time.perf_counter()
    load_before = load1()
    proc = subprocess.run(
        command, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False
    )
    elapsed = round(time.perf_counter() - started, 1)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        return {"error": f"exit code {proc.returncode}", "elapsed_s": elapsed}
    result = json.loads(lines[-1][len("RESULT ") :])
    result["elapsed_s"] = elapsed
    result["load_span"] = [load_before, load1()]
    return result


def _yes(ok: bool) -> str:
    return "**yes**" if ok else "**no**"


def _span(loads: list[float]) -> str:
    loads = [x for x in loads if x == x]
    if not loads:
        return "-"
    low, high = min(loads), max(loads)
    return f"{low:.1f}" if round(low, 1) == round(high, 1) else f"{low:.1f}-{high:.1f}"


def _collect_loads(obj: Any) -> list[float]:
    """Every load figure recorded anywhere in a result."""
    found: list[float] = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            if "load" in key and "loaded" not in key:
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    found.append(float(value))
                elif isinstance(value, list):
                    found += [float(v) for v in value if isinstance(v, (int, float))]
            else:
                found += _collect_loads(value)
    elif isinstance(obj, list):
        for value in obj:
            found += _collect_loads(value)
    return found


def render(results: dict[str, Any], meta: dict[str, Any]) -> str:
    """The Markdown of BENCHMARKS.md."""
    quick = meta["quick"]
    m = meta["machine"]
    lines = [
        "# Benchmarks",
        "",
        "Generated by `bench/run.py`; do not edit by hand, run it again.",
        "",
    ]
    if quick:
        lines += [
            "> **Quick run** (`--quick`): 5 training epochs instead of 50 (so XLA's",
            "> compile time dominates ours), 100 reference forecast steps",
            "> extrapolated to 1000, one app start of each kind, 3 memory cycles.",
            "> Not the numbers to publish: run `python bench/run.py` for those.",
            "",
        ]
    la = meta["load_start"]
    lb = meta["load_end"]
    lines += [
        f"- Command: `{meta['command']}` (from the repository root)",
        f"- Date: {meta['date']} (total {meta['elapsed_min']:.1f} min)",
        f"- Machine: {m['cores']} cores, {m['cpu']}, {m['ram_gb']} GB RAM; {m['os']}",
        f"- Software: Python {m['python']}, TensorFlow {m['tensorflow']} (CPU), "
        f"Keras {m['keras']}, NumPy {m['numpy']}, Streamlit {m['streamlit']}",
        f"- Load average (1/5/15 min): {la[0]:.2f} / {la[1]:.2f} / {la[2]:.2f} at "
        f"the start, {lb[0]:.2f} / {lb[1]:.2f} / {lb[2]:.2f} at the end. The "
        "machine is shared with other jobs, so absolute seconds are inflated and "
        "noisy; every comparison below is measured side by side in one process "
        "(back to back or interleaved) and given as a ratio, with the 1-minute "
        "load average during the measurement.",
        "- Reference = `bench/reference_keras.py`, the tutorials' plain Keras code.",
        "",
        "## Summary",
        "",
        "| # | target | reference | ours | ratio | goal | met | load (1 min) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    detail: list[str] = []

    tr = results.get("training", {})
    if "error" in tr or not tr:
        lines.append(
            f"| 1 | training | - | - | - | ≤ {GOAL_TRAIN_RATIO}x | "
            f"failed: {tr.get('error', 'not run')} | - |"
        )
    else:
        e = tr["epochs"]
        ld = _span(_collect_loads(tr["models"]))
        t = tr["total"]
        lines.append(
            f"| 1 | Training, LSTM + GRU + SimpleRNN, {e} epochs, wall time | "
            f"{t['reference']['wall_s']:.1f} s | {t['ours']['wall_s']:.1f} s | "
            f"{tr['wall_ratio']:.2f}x | ≤ {GOAL_TRAIN_RATIO}x | "
            f"{_yes(tr['wall_ratio'] <= GOAL_TRAIN_RATIO)} | {ld} |"
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
            f"{_yes(tr['worst_rmse_diff'] <= GOAL_RMSE_WORSE)} | {ld} |"
        )
        detail += training_detail(tr)

    fc = results.get("forecast", {})
    if "error" in fc or not fc:
        lines.append(
            f"| 2 | free run | - | - | - | ≥ {GOAL_FORECAST_SPEEDUP:.0f}x "
            f"faster | failed: {fc.get('error', 'not run')} | - |"
        )
    else:
        ext = " (extrapolated)" if fc["ref_extrapolated"] else ""
        ld = _span(_collect_loads(fc))
        met = fc["speedup_first"] >= GOAL_FORECAST_SPEEDUP and fc["allclose"]
        lines.append(
            f"| 2 | Free run, {fc['steps']} steps, fly GRU, first call "
            f"(compile included) | {fc['ref_seconds_1000']:.1f} s{ext} | "
            f"{fc['ours_first_s']:.2f} s | {fc['speedup_first']:.0f}x faster | "
            f"≥ {GOAL_FORECAST_SPEEDUP:.0f}x, rel. diff ≤ 1e-4 | {_yes(met)} "
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
            f"{_yes(fc['batch5_ratio'] < GOAL_BATCH5_RATIO)} | "
            f"{_span(fc['batch_loads'])} |"
        )
        detail += forecast_detail(fc)

    wi = results.get("windows", {})
    if "error" in wi or not wi:
        lines.append(
            f"| 3 | windows | - | - | - | ≥ {GOAL_WINDOWS_SPEEDUP:.0f}x "
            f"faster | failed: {wi.get('error', 'not run')} | - |"
        )
    else:
        for dtype in ("float64", "float32"):
            w = wi[dtype]
            met = w["speedup"] >= GOAL_WINDOWS_SPEEDUP and w["identical"]
            lines.append(
                f"| 3 | Windows, {wi['rows']:,} x 2 {dtype}, window {wi['window']} | "
                f"{w['loop_ms']:.1f} ms | {w['make_windows_ms']:.2f} ms | "
                f"{w['speedup']:.0f}x faster | ≥ {GOAL_WINDOWS_SPEEDUP:.0f}x, "
                f"identical | {_yes(met)} (identical: {w['identical']}) | "
                f"{_span(w['loads'])} |"
            )
        detail += windows_detail(wi)

    ap = results.get("app", {})
    if "error" in ap or not ap:
        lines.append(
            f"| 4 | app start | - | - | - | - | failed: "
            f"{ap.get('error', 'not run')} | - |"
        )
    else:
        ld = _span(_collect_loads(ap))
        lines.append(
            f"| 4 | App start to first complete page (median of {ap['runs']}) | "
            f"{ap['hello_median_s']:.2f} s (one-line app) | "
            f"{ap['app_median_s']:.2f} s | {ap['ratio']:.2f}x | no TensorFlow "
            f"for the first page | {_yes(not ap['app_tf_loaded'])} (TF loaded: "
            f"{ap['app_tf_loaded']}) | {ld} |"
        )
        detail += app_detail(ap)

    mo, mr = results.get("memory_ours", {}), results.get("memory_reference", {})
    if "error" in mo or not mo:
        lines.append(
            f"| 5 | memory | - | - | - | < {GOAL_MEMORY_GROWTH:.0%} | "
            f"failed: {mo.get('error', 'not run')} | - |"
        )
    else:
        ref_cell = "-"
        if mr and "error" not in mr:
            ref_cell = (
                f"{mr['rss_mb'][0]:.0f} → {mr['rss_mb'][-1]:.0f} MB "
                f"({mr['growth']:+.1%})"
            )
        lines.append(
            f"| 5 | RSS after cycle 1 → {mo['cycles']}, train-and-discard of 3 "
            f"models | {ref_cell} | {mo['rss_mb'][0]:.0f} → {mo['rss_mb'][-1]:.0f} "
            f"MB | {mo['growth']:+.1%} | < +{GOAL_MEMORY_GROWTH:.0%} | "
            f"{_yes(mo['growth'] < GOAL_MEMORY_GROWTH)} | "
            f"{_span([mo['load'], mr.get('load', float('nan'))])} |"
        )
        for mode in ("ours_varied", "ours_varied_nojit"):
            r = results.get(f"memory_{mode}", {})
            if r and "error" not in r:
                lines.append(
                    f"| 5 | same, {MEMORY_MODES[mode]} | | {r['rss_mb'][0]:.0f} → "
                    f"{r['rss_mb'][-1]:.0f} MB | {r['growth']:+.1%} | (info) | "
                    f"{_yes(r['growth'] < GOAL_MEMORY_GROWTH)} | {r['load']:.1f} |"
                )
        detail += memory_detail(results)

    lines += [
        "",
        "Ratios: training is ours / reference (lower is better); forecast and "
        'windows are reference / ours ("x faster"); app start is our app / the '
        "one-line app; memory is the growth of our process's RSS from the first "
        "cycle to the last.",
        "",
    ]
    return "\n".join(lines + detail) + "\n"


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
        "input). Ours: `forecasting.training.train_model` with the default "
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
            f"{_span(rf['load'] + o['load'])} |"
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
        "`forecasting.predict.free_run` (one XLA-compiled `tf.while_loop`). The "
        "reference loop runs in chunks (continuing from the same window, so the "
        "numbers are those of one long loop), with a compiled `free_run` call "
        f"between chunks to share the machine's noise.{ext}",
        "",
        "| measurement | seconds | vs reference | load (1 min) |",
        "|---|---|---|---|",
        f"| reference, {fc['ref_steps_timed']} steps timed | "
        f"{fc['ref_seconds_timed']:.2f} ({fc['ref_seconds_per_step'] * 1e3:.1f} "
        f"ms/step) | 1x | {_span(fc['ref_loads'])} |",
        f"| reference, {fc['steps']} steps | {fc['ref_seconds_1000']:.2f} | 1x | |",
        f"| `free_run` first call (trace + XLA compile + run) | "
        f"{fc['ours_first_s']:.3f} | **{fc['speedup_first']:.0f}x faster** | "
        f"{_span(fc['ours_first_load'])} |",
        f"| `free_run` later calls (median of {len(fc['ours_steady_all'])}) | "
        f"{fc['ours_steady_s']:.4f} | **{fc['speedup_steady']:.0f}x faster** | |",
        f"| `free_run`, 5 flies in one batch, first call | {fc['batch5_first_s']:.3f}"
        " | | |",
        f"| `free_run`, 1 fly, later calls (median) | {fc['batch1_steady_s']:.4f} | "
        "| |",
        f"| `free_run`, 5 flies in one batch, later calls (median) | "
        f"{fc['batch5_steady_s']:.4f} | **{fc['batch5_ratio']:.2f}x the time of "
        f"one** | {_span(fc['batch_loads'])} |",
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


def windows_detail(wi: dict[str, Any]) -> list[str]:
    out = [
        "## 3 · Windows",
        "",
        f"A {wi['rows']:,} x 2 random series, window {wi['window']}: "
        "`python_loop_windows` (the tutorial's `split_sequence` as written: a "
        "Python loop appending slices to a list, then `np.array`) vs "
        "`forecasting.windows.make_windows` (`sliding_window_view` + one "
        f"contiguous copy). Best of {wi['rounds']} interleaved rounds (5 calls per "
        "round for the fast candidates). float32 is what the app feeds "
        "`make_windows` (the scaled series is float32); float64 is what the "
        "tutorial's scaler returns.",
        "",
        "| dtype | output MB | loop ms (list + np.array) | make_windows ms | "
        "speedup | floor: allocate + write the output once, ms | make_windows / "
        "floor | `empty` + `copyto` ms | view only (no copy) ms | identical | "
        "C-contiguous | load (1 min) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for dtype in ("float64", "float32"):
        w = wi[dtype]
        out.append(
            f"| {dtype} | {w['output_mb']} | {w['loop_ms']:.1f} "
            f"({w['loop_list_ms']:.0f} + {w['loop_np_array_ms']:.0f}) | "
            f"{w['make_windows_ms']:.2f} | **{w['speedup']:.0f}x** | "
            f"{w['alloc_and_write_ms']:.2f} | {w['make_windows_vs_floor']:.2f}x | "
            f"{w['empty_copyto_ms']:.2f} | {w['view_only_ms']:.3f} | "
            f"{w['identical']} | {w['c_contiguous']} | {_span(w['loads'])} |"
        )
    f64, f32 = wi["float64"], wi["float32"]
    hp = wi.get("numpy_hugepages")
    out += [
        "",
        "Why the 100x goal is out of reach with a materialized array: "
        "`make_windows` must return a new contiguous (rows − 60, 60, 2) array "
        f"({f64['output_mb']} MB in float64, {f32['output_mb']} MB in float32), "
        "and just allocating such an array and writing it once (page faults + "
        f"memory bandwidth; numpy's huge-page hint is {'on' if hp else 'off'}) "
        f"takes {f64['alloc_and_write_ms']:.1f} / {f32['alloc_and_write_ms']:.1f} "
        "ms. `make_windows` runs within "
        f"{f64['make_windows_vs_floor']:.2f}x / {f32['make_windows_vs_floor']:.2f}x "
        "of that floor. The loop costs only "
        f"{f64['loop_vs_floor']:.0f}x / {f32['loop_vs_floor']:.0f}x the floor, and "
        "half of that is the same copy (`np.array` on the list), so the best "
        "possible speedup of any function returning the same array is about "
        "that. Only the copy-free view (strided, read-only semantics, not "
        "contiguous) is thousands of times faster, and it is a different output.",
        "",
    ]
    return out


def app_detail(ap: dict[str, Any]) -> list[str]:
    out = [
        "## 4 · App start",
        "",
        "From launching `streamlit run <file> --server.headless true --server.port "
        "P` to the first complete page in headless Debian Chromium (Python "
        "playwright; the browser is started once beforehand): the app element is "
        "connected and not running, no skeleton, spinner or status widget is "
        "shown, and the main content is drawn (our app: the *Price forecasting* "
        "title and the series chart's Plotly SVG; the one-line app "
        '`st.write("hello")`: the text). Runs alternate between the two apps. '
        "*TF loaded* = a TensorFlow shared library is mapped into the server "
        "process (`/proc/<pid>/maps`) once the first page is complete; "
        "`tests/test_app.py::test_landing_learn_and_tracking_pages_import_no_"
        "tensorflow` checks the same in `sys.modules`.",
        "",
        "| app | run | total s | server ready (health) s | script run finished s | "
        "page after ready s | server RSS MB | TF loaded | load (1 min) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, key in (("ours (`app.py`)", "app_runs"), ("one-line", "hello_runs")):
        for i, r in enumerate(ap[key], 1):
            out.append(
                f"| {name} | {i} | {r['seconds']:.2f} | {r['server_ready_s']:.2f} | "
                f"{r['script_done_s']:.2f} | {r['page_s']:.2f} | "
                f"{r['server_rss_mb']:.0f} | "
                f"{r['tensorflow_loaded']} | {_span(r['load'])} |"
            )
    out += [
        f"| **median** | | ours {ap['app_median_s']:.2f}, one-line "
        f"{ap['hello_median_s']:.2f} (**{ap['ratio']:.2f}x**) | | | | ours "
        f"{ap['app_rss_mb']:.0f}, one-line {ap['hello_rss_mb']:.0f} | | |",
        "",
    ]
    return out


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
        "setting (`forecasting.training._compiled_trainer`; a fit copies the new "
        "model's seeded weights in and the trained ones out) and one compiled "
        "free-run "
        "loop per architecture (`forecasting.predict._rollout`), so no cache "
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few minutes' run")
    parser.add_argument(
        "--targets",
        default=",".join(TARGETS),
        help=f"comma list of {', '.join(TARGETS)} (default: all)",
    )
    parser.add_argument("--out", default=str(OUT), help="Markdown file to write")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
        result = CHILDREN[args.child](args.quick)
        print("RESULT " + json.dumps(jsonable(result)), flush=True)
        return 0

    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = set(targets) - set(TARGETS)
    if unknown:
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    argv_text = sys.argv[1:] if argv is None else argv
    meta = {
        "quick": args.quick,
        "command": shlex.join(["python", "bench/run.py", *argv_text]),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "load_start": [round(x, 2) for x in os.getloadavg()],
    }
    started = time.perf_counter()
    results: dict[str, Any] = {}
    for target in targets:
        children = (
            [f"memory_{mode}" for mode in MEMORY_MODES]
            if target == "memory"
            else [target]
        )
        for child in children:
            log(f"=== {child} {'(quick)' if args.quick else ''}")
            results[child] = run_child(child, args.quick)
            if "error" in results[child]:
                log(f"=== {child} FAILED: {results[child]['error']}")
            else:
                log(f"=== {child} done in {results[child]['elapsed_s']:.0f} s")
    meta["load_end"] = [round(x, 2) for x in os.getloadavg()]
    meta["elapsed_min"] = (time.perf_counter() - started) / 60
    raw = Path(HERE / "results")
    raw.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (raw / f"run-{stamp}{'-quick' if args.quick else ''}.json").write_text(
        json.dumps(jsonable({"meta": meta, "results": results}), indent=1)
    )
    out = Path(args.out)
    old = out.read_text() if out.exists() else ""
    out.write_text(keep_sections(old, render(results, meta)))
    log(f"wrote {args.out}")
    failed = [name for name, r in results.items() if "error" in r]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
