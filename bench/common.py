"""What every measurement shares: timing, machine facts, table cells, the child run.

Each measurement (``bench/training.py``, ``forecast.py``, ``windows.py``,
``app_start.py``, ``memory.py``) runs in its own fresh interpreter, started as
``python -m bench.run --child NAME``, which prints its numbers as the last stdout
line (``RESULT {json}``); :func:`run_child` starts one and reads it back.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from bench import reference_keras as ref

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"

# kind names: ours (forecasting.settings.config.MODEL_KINDS) -> the reference's
KINDS = {"lstm": "lstm", "gru": "gru", "simple_rnn": "simplernn"}
LABELS = {"lstm": "LSTM", "gru": "GRU", "simple_rnn": "SimpleRNN"}

SUMMARY_HEADER = [
    "| # | target | reference | ours | ratio | goal | met | load (1 min) |",
    "|---|---|---|---|---|---|---|---|",
]


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


def mastercard() -> ref.Prepared:
    """The tutorial's MasterCard windows (High, 2016-2020, window 60), float64."""
    from forecasting.data import sample_path

    return ref.load_mastercard(path=sample_path("mastercard"))


def yes(ok: bool) -> str:
    """A goal's *met* cell."""
    return "**yes**" if ok else "**no**"


def span(loads: list[float]) -> str:
    """The range of load averages, ``1.2-3.4`` (or one number, or ``-``)."""
    loads = [x for x in loads if x == x]
    if not loads:
        return "-"
    low, high = min(loads), max(loads)
    return f"{low:.1f}" if round(low, 1) == round(high, 1) else f"{low:.1f}-{high:.1f}"


def failed_row(number: int, target: str, goal: str, result: dict[str, Any]) -> str:
    """The summary row of a target that failed or was not run."""
    error = result.get("error", "not run")
    return f"| {number} | {target} | - | - | - | {goal} | failed: {error} | - |"


def collect_loads(obj: Any) -> list[float]:
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
                found += collect_loads(value)
    elif isinstance(obj, list):
        for value in obj:
            found += collect_loads(value)
    return found


def run_child(name: str, quick: bool) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; read its result from stdout."""
    command = [sys.executable, "-m", "bench.run", "--child", name]
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


def run_children(names: list[str], quick: bool) -> dict[str, Any]:
    """:func:`run_child` for each name in turn, with progress on stderr."""
    results: dict[str, Any] = {}
    for child in names:
        log(f"=== {child} {'(quick)' if quick else ''}")
        results[child] = run_child(child, quick)
        if "error" in results[child]:
            log(f"=== {child} FAILED: {results[child]['error']}")
        else:
            log(f"=== {child} done in {results[child]['elapsed_s']:.0f} s")
    return results


def measurement_main(module: ModuleType, argv: list[str] | None = None) -> int:
    """``python -m bench.<measurement>``: measure one target, print its Markdown.

    The measurement runs exactly as in ``python -m bench.run`` (each child in its
    own interpreter), but only its summary rows and its section are printed (or,
    with ``--json``, the raw numbers); BENCHMARKS.md is not touched.
    """
    parser = argparse.ArgumentParser(
        prog=f"python -m {module.__spec__.name}",
        description=module.__doc__.splitlines()[0],
    )
    parser.add_argument("--quick", action="store_true", help="a few minutes' run")
    parser.add_argument(
        "--json", action="store_true", help="print the raw numbers as JSON"
    )
    args = parser.parse_args(argv)
    results = run_children(list(module.CHILDREN), args.quick)
    if args.json:
        print(json.dumps(jsonable(results), indent=1))
    else:
        rows, detail = module.report(results)
        print("\n".join([*SUMMARY_HEADER, *rows, "", *detail]))
    return 1 if any("error" in r for r in results.values()) else 0
