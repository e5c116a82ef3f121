"""A class on one server, with students who speak Streamlit's websocket protocol.

``bench/classroom.py`` drives real browser pages, and on this 2-core machine the
pages of a class of 30 take the cores from the server they are meant to measure
(its docstring says how). Here every student is what a browser says to the
server and nothing else: a websocket to ``/_stcore/stream`` that asks for a page,
presses a button by its label (the widget states a browser sends) and reads the
server's answers. Thirty of them cost a few percent of one core, as thirty
students' own laptops would cost the server nothing.

What it measures is the server's side: when a student's run of the page sends the
success message ("the results are below"), and how long the Learn page takes the
server (its heading, the end of its run) while the class trains. A browser adds
its own drawing on top (``bench/classroom.py``: about 0.5 s for the Learn page).

Usage (a few minutes per version; old is the lock of issue 10)::

    python -m bench.wire                       # classes of 6 and 30, old and new
    python -m bench.wire --sizes 6 --only new  # a quick look at the app as it is

Results go to a JSON file and a Markdown table on stdout, old and new side by
side; the servers run one after the other on this machine, so only the ratios
compare them.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench.browsers import LEARN_HEADING, QUICK_DEMO, SEED_BASE
from bench.monitor import Monitor
from bench.server import Server
from bench.versions import (
    DEFAULT_OLD,
    ROOT,
    describe_tree,
    log,
    monitored,
    old_checkout,
    ratio,
)

TRAIN = "Train models"
SEED = "Seed"
EPOCHS = "Epochs"
LONG_EPOCHS = 60
BEHIND_DELAY_S = 5.0
"""In ``behind``, B presses Train this long after A started a 60-epoch run."""
SUCCESS = "the results are below"
LEARN_PAGE = "learn"
LEARN_AFTER_S = 5.0
"""The Learn page is asked for this long after the class pressed Train."""
DEFAULT_SIZES = (6, 30)
RERUN = ForwardMsg.FINISHED_EARLY_FOR_RERUN
ERROR_FORMATS = (Alert.ERROR,)  # not warnings: lessons, or "cancelled"


@dataclass
class Run:
    """What the server sent for one run of a page script.

    Attributes:
        widgets: Widget id by label, of the widgets the run drew.
        texts: ``(seconds since the request, text)`` of alerts, in order.
        errors: Error alerts and exceptions, as text (warnings are lessons).
        heading_s: Seconds to the first heading, if any.
        heading: That heading's text.
        seconds: Seconds to the end of the run.
    """

    widgets: dict[str, str] = field(default_factory=dict)
    texts: list[tuple[float, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    heading_s: float | None = None
    heading: str = ""
    seconds: float = 0.0


class Session:
    """One browser session over the websocket, without the browser."""

    def __init__(self, url: str):
        self.url = url.replace("http://", "ws://") + "/_stcore/stream"
        self.widgets: dict[str, str] = {}
        self._ws: Any = None

    async def __aenter__(self) -> Session:
        import websockets  # Streamlit's own dependency

        self._ws = await websockets.connect(
            self.url, subprotocols=["streamlit"], max_size=None, open_timeout=60
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._ws.close()

    async def run(
        self, page: str = "", press: str | None = None, ints: dict | None = None
    ) -> Run:
        """Ask for a run of ``page``, pressing the button labelled ``press``.

        Args:
            page: The page's URL path ("" for the first page).
            press: Label of a button (or form submit button) to press.
            ints: Integer widget values to send, by label (e.g. the seed).

        Returns:
            What the run sent, until its ``script_finished``.
        """
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        msg = BackMsg()
        msg.rerun_script.page_name = page
        states = msg.rerun_script.widget_states.widgets
        for label, value in (ints or {}).items():
            states.append(WidgetState(id=self.widgets[label], int_value=value))
        if press is not None:
            states.append(WidgetState(id=self.widgets[press], trigger_value=True))
        started = time.monotonic()
        await self._ws.send(msg.SerializeToString())
        run = await self._read(started)
        self.widgets.update(run.widgets)
        return run

    async def _read(self, started: float) -> Run:
        run = Run()
        while True:
            message = ForwardMsg()
            message.ParseFromString(await self._ws.recv())
            kind = message.WhichOneof("type")
            # A run that ends early for a rerun (st.rerun, st.switch_page) goes
            # on as the next run, as in a browser.
            if kind == "script_finished" and message.script_finished != RERUN:
                run.seconds = time.monotonic() - started
                return run
            if kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                note(run, message.delta.new_element, time.monotonic() - started)


def note(run: Run, element: Any, at: float) -> None:
    """Keep what a student would look for in one element the server sent."""
    kind = element.WhichOneof("type")
    if kind is None:
        return
    body = getattr(element, kind)
    if kind == "heading" and run.heading_s is None:
        run.heading_s, run.heading = at, body.body
    elif kind == "alert":
        run.texts.append((at, body.body))
        if body.format in ERROR_FORMATS:
            run.errors.append(body.body)
    elif kind == "exception":
        run.errors.append(f"{body.type}: {body.message}")
    widget_id, label = getattr(body, "id", ""), getattr(body, "label", None)
    if isinstance(widget_id, str) and widget_id.startswith("$$ID") and label:
        run.widgets[label] = widget_id


def blocking(coroutine: Awaitable[Any]) -> Any:
    """Run ``coroutine`` to its end in a thread of its own and return its result.

    A thread of its own, so that it also works where an event loop already runs
    in this thread (Playwright's sync API in the browser tests has one).
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


# --------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------


async def student(
    url: str,
    seed: int,
    arrived: list[int],
    go: asyncio.Event,
    epochs: int | None = None,
) -> dict[str, Any]:
    """Open the app, press Quick demo, wait for ``go``, press Train with ``seed``.

    Args:
        url: The server.
        seed: The student's seed (each student trains their own models).
        arrived: The student's seed is added once Quick demo's run has ended.
        go: Set when the student is to press Train.
        epochs: Epochs instead of Quick demo's (the long run of ``behind``).

    Returns:
        Seconds from the Train click to the success message, the errors seen.
    """
    ints = {SEED: seed} | ({EPOCHS: epochs} if epochs else {})
    async with Session(url) as session:
        await session.run()
        await session.run(press=QUICK_DEMO)
        arrived.append(seed)
        await go.wait()
        run = await session.run(press=TRAIN, ints=ints)
    done = next((at for at, text in run.texts if SUCCESS in text), None)
    return {
        "seed": seed,
        "done_s": None if done is None else round(done, 2),
        "run_s": round(run.seconds, 2),
        "errors": run.errors,
    }


async def visit_learn(url: str) -> dict[str, float]:
    """A new session asks for the Learn page: seconds to its heading and run end."""
    async with Session(url) as session:
        run = await session.run(page=LEARN_PAGE)
    if run.heading_s is None or not LEARN_HEADING.search(run.heading):
        raise RuntimeError(f"the Learn page's heading was {run.heading!r}")
    return {"heading_s": round(run.heading_s, 3), "done_s": round(run.seconds, 3)}


async def all_arrived(tasks: list[asyncio.Task], arrived: list[int]) -> None:
    """Wait until every student has pressed Quick demo (is ready to press Train).

    Raises:
        RuntimeError: A student ended before that (its own error first).
    """
    while len(arrived) < len(tasks):
        failed = [t for t in tasks if t.done()]
        if failed:  # a student failed before Train: show why
            await failed[0]
            raise RuntimeError("a student ended before pressing Train")
        await asyncio.sleep(0.1)


async def a_class(url: str, size: int, first_seed: int, learn: bool) -> dict:
    """``size`` students press Train together; a visitor opens Learn 5 s later."""
    arrived: list[int] = []
    go = asyncio.Event()
    tasks = [
        asyncio.create_task(student(url, first_seed + i, arrived, go))
        for i in range(size)
    ]
    await all_arrived(tasks, arrived)
    go.set()
    visit = None
    if learn:
        await asyncio.sleep(LEARN_AFTER_S)
        visit = await visit_learn(url)
    return summarise(await asyncio.gather(*tasks), visit)


async def behind(url: str, first_seed: int, alone_s: float | None) -> dict:
    """A starts a 60-epoch run; 5 s later B presses Train on the Quick demo."""
    arrived: list[int] = []
    go_a, go_b = asyncio.Event(), asyncio.Event()
    a = asyncio.create_task(student(url, first_seed, arrived, go_a, LONG_EPOCHS))
    b = asyncio.create_task(student(url, first_seed + 1, arrived, go_b))
    await all_arrived([a, b], arrived)
    go_a.set()
    await asyncio.sleep(BEHIND_DELAY_S)
    go_b.set()
    a_out, b_out = await asyncio.gather(a, b)
    b_s = b_out["done_s"]
    return {
        "a": a_out,
        "b": b_out,
        "a_s": a_out["done_s"],
        "b_s": b_s,
        "b_alone_s": alone_s,
        "b_slowdown": ratio(b_s, alone_s),
        "errors": sum(len(o["errors"]) + (o["done_s"] is None) for o in (a_out, b_out)),
    }


def summarise(students: list[dict], learn: dict | None) -> dict[str, Any]:
    """The class's last, median and first times to results, errors, Learn visit."""
    done = [s["done_s"] for s in students if s["done_s"] is not None]
    errors = [e for s in students for e in s["errors"]]
    missing = sum(1 for s in students if s["done_s"] is None)
    return {
        "students": students,
        "last_s": max(done) if done else None,
        "median_s": round(statistics.median(done), 2) if done else None,
        "first_s": min(done) if done else None,
        "errors": len(errors) + missing,
        "error_texts": sorted(set(errors))[:5],
        "learn": learn,
    }


# --------------------------------------------------------------------------------
# One version, then both side by side
# --------------------------------------------------------------------------------


async def alone(url: str, seeds: Iterator[int], repeats: int = 3) -> dict:
    """One student at a time, ``repeats`` times: the median time to results."""
    runs = [await a_class(url, 1, next(seeds), False) for _ in range(repeats)]
    times = [r["last_s"] for r in runs if r["last_s"] is not None]
    return {
        "runs": runs,
        "median_s": statistics.median(times) if times else None,
        "errors": sum(r["errors"] for r in runs),
    }


async def scenarios(url: str, sizes: list[int], monitor: Monitor) -> dict[str, Any]:
    """Warm-up, a lone student, the Learn page idle, behind a long run, classes."""
    out: dict[str, Any] = {}
    seeds = iter(range(SEED_BASE + 500, SEED_BASE + 10_000, 100))
    plan: list[tuple[str, Callable[[], Awaitable[dict]]]] = [
        ("warmup", lambda: a_class(url, 1, next(seeds), False)),
        ("alone", lambda: alone(url, seeds)),
        ("learn_idle", lambda: visit_learn(url)),
        ("behind", lambda: behind(url, next(seeds), pick_alone(out))),
    ]
    plan += [
        (f"class_{n}", lambda n=n: a_class(url, n, next(seeds), True)) for n in sizes
    ]
    for name, scenario in plan:
        log(f"wire scenario {name}")
        monitor.take()
        started = time.monotonic()
        try:
            out[name] = await scenario()
        except Exception as err:  # keep what was measured, say what failed
            out[name] = {"error": f"{type(err).__name__}: {err}"[:1000]}
            log(f"wire scenario {name} failed: {out[name]['error']}")
        out[name]["memory"] = monitor.take()
        out[name]["elapsed_s"] = round(time.monotonic() - started, 1)
    return out


def pick_alone(out: dict[str, Any]) -> float | None:
    return (out.get("alone") or {}).get("median_s")


def run_version(label: str, folder: Path, args: argparse.Namespace) -> dict:
    """Start one version's server, run the scenarios, stop it."""
    info = describe_tree(folder)
    log_path = args.out.parent / f"{args.out.stem}-{label}-server.log"

    def body(server: Server, monitor: Monitor) -> None:
        run = scenarios(server.url, args.sizes, monitor)
        info["scenarios"] = blocking(asyncio.wait_for(run, args.timeout * 60))

    monitored(info, label, folder, log_path, args.timeout / 60, body)
    return info


ROWS = [
    ("Warm-up: first training after the start (s)", "warmup.last_s"),
    ("One Quick-demo student alone, median of 3 (s)", "alone.median_s"),
    (
        "Learn page, nobody training: server's time to its heading (s)",
        "learn_idle.heading_s",
    ),
    ("Behind a 60-epoch run: B's time to results (s)", "behind.b_s"),
    ("Behind a 60-epoch run: B / B alone", "behind.b_slowdown"),
    ("Behind a 60-epoch run: A's time (s)", "behind.a_s"),
    ("Behind a 60-epoch run: errors", "behind.errors"),
]
CLASS_ROWS = [
    ("last student's time to results (s)", "last_s"),
    ("median time to results (s)", "median_s"),
    ("first student's time to results (s)", "first_s"),
    ("students with an error or no results", "errors"),
    ("Learn page while it trains: server's time to its heading (s)", "learn.heading_s"),
    (
        "Learn page while it trains: server's time to the end of its run (s)",
        "learn.done_s",
    ),
    ("CPU time of the server and its children (s)", "memory.server_cpu_s"),
    ("CPU time of the server process alone (s)", "memory.web_cpu_s"),
    ("peak RSS of the server process (MiB)", "memory.server_peak_mb"),
    ("peak PSS of its child processes, summed (MiB)", "memory.children_pss_peak_mb"),
]


def pick(info: dict, path: str) -> Any:
    value: Any = info.get("scenarios", {})
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def render(results: dict[str, dict], sizes: list[int]) -> str:
    """Old and new side by side, with new/old, as a Markdown table."""
    rows = list(ROWS) + [
        (f"Class of {n}: {label}", f"class_{n}.{path}")
        for n in sizes
        for label, path in CLASS_ROWS
    ]
    old, new = results.get("old", {}), results.get("new", {})
    lines = ["| measurement | old | new | new/old |", "| --- | ---: | ---: | ---: |"]
    for label, path in rows:
        a, b = pick(old, path), pick(new, path)
        r = ratio(b, a)
        cells = ["–" if v is None else f"{v:,}" for v in (a, b)]
        lines.append(f"| {label} | {cells[0]} | {cells[1]} | {r or '–'} |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", default=DEFAULT_OLD, help="git ref of the old app")
    parser.add_argument(
        "--sizes",
        type=lambda text: [int(n) for n in text.split(",") if n],
        default=list(DEFAULT_SIZES),
        help="class sizes, comma-separated (default 6,30)",
    )
    parser.add_argument("--only", choices=("old", "new"), default=None)
    parser.add_argument("--new-first", action="store_true")
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="minutes per version at most"
    )
    parser.add_argument("--out", type=Path, default=Path("/tmp/wire.json"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results: dict[str, dict] = {}
    order = ["new", "old"] if args.new_first else ["old", "new"]
    for label in order:
        if args.only not in (None, label):
            continue
        if label == "new":
            results["new"] = run_version("new", ROOT, args)
        else:
            with old_checkout(args.old) as folder:
                results["old"] = run_version("old", folder, args)
        args.out.write_text(json.dumps(results, indent=1))
    command = " ".join(sys.argv[1:] if argv is None else argv)
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"{now} · `python -m bench.wire {command}` · {os.cpu_count()} cores")
    for label, info in results.items():
        commit = info.get("commit", "?")[:10]
        print(f"- {label}: `{commit}`, load {info['load_start']} → {info['load_end']}")
    print()
    print(render(results, args.sizes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
