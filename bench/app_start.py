"""4 · App start: our app's first complete page in a browser vs a one-line app's.

Usage (from the repository root)::

    python -m bench.app_start [--quick] [--json]

Each run launches a server on a free loopback port (``bench/server.py``) and
waits in headless Debian Chromium (Python playwright) until the page is
complete; runs alternate between our app and ``st.write("hello")``. Also
records the server's memory and whether a TensorFlow library is mapped into it.
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    ROOT,
    collect_loads,
    failed_row,
    load1,
    log,
    measurement_main,
    span,
    vmrss_mb,
    yes,
)
from bench.server import start

TARGET = "app"  # its name in run.py --targets
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


def _tf_mapped(pid: int) -> bool:
    """Whether a TensorFlow shared library is mapped into the process."""
    try:
        with open(f"/proc/{pid}/maps") as maps:
            return any("tensorflow" in line for line in maps)
    except OSError:
        return False


def app_start_once(browser: Any, app_file: Path, cwd: Path, expected: str) -> dict:
    """Launch ``streamlit run`` and time it to the first complete page."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-app-"))
    cache = workdir / "cache"
    cache.mkdir()
    load_before = load1()
    server = start(
        cwd,
        {"RNN_FORECAST_CACHE": str(cache)},
        script=str(app_file),
        log_path=workdir / "server.log",
        timeout_s=120,
        poll_s=0.05,
    )
    context = None
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(server.url, wait_until="commit", timeout=120_000)
        page.wait_for_function(
            SCRIPT_DONE_JS, arg=expected, timeout=120_000, polling=50
        )
        t_script = time.perf_counter()
        page.wait_for_function(DONE_JS, arg=expected, timeout=120_000, polling=50)
        t_done = time.perf_counter()
        exceptions = page.locator('[data-testid="stException"]').count()
        return {
            "seconds": round(t_done - server.started, 3),
            "server_ready_s": round(server.start_s, 3),
            "page_s": round(t_done - server.started - server.start_s, 3),
            "script_done_s": round(t_script - server.started, 3),
            "server_rss_mb": vmrss_mb(server.pid),
            "tensorflow_loaded": _tf_mapped(server.pid),
            "exceptions_on_page": exceptions,
            "load": [load_before, load1()],
        }
    finally:
        if context is not None:
            with contextlib.suppress(Exception):
                context.close()
        server.stop()


def measure(quick: bool) -> dict[str, Any]:
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


CHILDREN = {TARGET: measure}  # one fresh interpreter


def report(results: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Its rows of the summary table and its section of BENCHMARKS.md."""
    ap = results.get("app", {})
    if "error" in ap or not ap:
        return [failed_row(4, "app start", "-", ap)], []
    lines: list[str] = []
    ld = span(collect_loads(ap))
    lines.append(
        f"| 4 | App start to first complete page (median of {ap['runs']}) | "
        f"{ap['hello_median_s']:.2f} s (one-line app) | "
        f"{ap['app_median_s']:.2f} s | {ap['ratio']:.2f}x | no TensorFlow "
        f"for the first page | {yes(not ap['app_tf_loaded'])} (TF loaded: "
        f"{ap['app_tf_loaded']}) | {ld} |"
    )
    return lines, app_detail(ap)


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
                f"{r['tensorflow_loaded']} | {span(r['load'])} |"
            )
    out += [
        f"| **median** | | ours {ap['app_median_s']:.2f}, one-line "
        f"{ap['hello_median_s']:.2f} (**{ap['ratio']:.2f}x**) | | | | ours "
        f"{ap['app_rss_mb']:.0f}, one-line {ap['hello_rss_mb']:.0f} | | |",
        "",
    ]
    return out


if __name__ == "__main__":
    raise SystemExit(measurement_main(sys.modules[__name__]))
