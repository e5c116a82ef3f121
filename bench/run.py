"""Benchmarks of issue 5: our code and the plain tutorial code, side by side.

Usage (from the repository root)::

    python -m bench.run            # full run, the published numbers (~20-30 min)
    python -m bench.run --quick    # a few minutes: fewer epochs, steps and cycles
    python -m bench.run --targets windows,memory --out /tmp/b.md   # some of them

It runs five targets, each in its own subprocess (so that TensorFlow state, XLA
caches and resident memory of one target do not leak into the next), and writes
``BENCHMARKS.md`` in the repository root (``bench/report.py`` assembles it,
keeping the sections that ``bench/parallel.py`` and ``bench/classroom.py`` own).
Progress goes to stderr. One file per target, each also runnable alone
(``python -m bench.windows`` prints its rows and section, writing nothing):

1. ``training`` (``bench/training.py``): ``forecasting.nn.training.train_model``
   (XLA, one call per epoch) vs ``reference_train`` (plain ``Sequential`` +
   ``fit``), the tutorial config.
2. ``forecast`` (``bench/forecast.py``): ``forecasting.nn.predict.free_run`` (one
   XLA ``tf.while_loop``) vs ``reference_rollout`` (one ``model.predict`` per
   step) on a fly GRU.
3. ``windows`` (``bench/windows.py``): ``forecasting.prep.windows.make_windows`` vs
   the tutorial's loop.
4. ``app`` (``bench/app_start.py``): ``streamlit run app.py`` until the first
   complete page in headless Chromium, vs a one-line Streamlit app.
5. ``memory`` (``bench/memory.py``): resident memory over train-and-discard
   cycles, ours and plain Keras.

The machine is shared and timings are noisy, so every comparison is measured in
the same process, back to back or interleaved, and reported as a ratio; the
1-minute load average (``os.getloadavg()``) is recorded beside every figure.
The plain reference code is ``bench/reference_keras.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import RESULTS, ROOT, jsonable, log, machine, run_children
from bench.report import MEASUREMENTS, render
from bench.sections import keep_sections

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # in the children, before TF

TARGETS = tuple(m.TARGET for m in MEASUREMENTS)
CHILDREN = {name: fn for m in MEASUREMENTS for name, fn in m.CHILDREN.items()}
OUT = ROOT / "BENCHMARKS.md"


def measure(targets: list[str], quick: bool) -> dict[str, Any]:
    """Every child of the targets, each in a fresh interpreter, by child name."""
    by_target = {m.TARGET: m for m in MEASUREMENTS}
    return run_children([c for t in targets for c in by_target[t].CHILDREN], quick)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.splitlines()[0]
    )
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
        "command": shlex.join(["python", "-m", "bench.run", *argv_text]),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "load_start": [round(x, 2) for x in os.getloadavg()],
    }
    started = time.perf_counter()
    results = measure(targets, args.quick)
    meta["load_end"] = [round(x, 2) for x in os.getloadavg()]
    meta["elapsed_min"] = (time.perf_counter() - started) / 60
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"run-{stamp}{'-quick' if args.quick else ''}.json").write_text(
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
