"""The classroom's scenarios: who opens which page and presses Train when.

``warmup`` (the first training after the start), ``alone`` (one student, the
median of a few runs), ``behind`` (student A trains 60 epochs, B presses Quick
demo + Train 5 s later), ``class_N`` (N students press Train within the same
second) and ``nothing_N`` (the Learn page opened while N students train).
:func:`run_version` serves one version of the app and runs the plan against it.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.browsers import (
    LEARN_HEADING,
    LEARN_PATH,
    QUICK_DEMO,
    SEL,
    TRACKER,
    UI_TIMEOUT_MS,
    VIEWPORT,
    Bench,
    check_clicks,
    click_together,
    click_train,
    open_price,
    outcome,
    prepare,
    quick_demo,
    runs,
    schedule_clicks,
    settle,
    summarize,
    wait_results,
)
from bench.monitor import Monitor
from bench.server import Server
from bench.versions import describe_tree, log, monitored, ratio

LONG_EPOCHS = 60
BEHIND_DELAY_S = 5.0
LEARN_DELAY_S = 5.0
CLASS_SIZES, QUICK_CLASS_SIZES = (6, 30), (2,)
NOTHING_STUDENTS, QUICK_NOTHING_STUDENTS = 6, 2


def scenario_single(bench: Bench, name: str) -> dict[str, Any]:
    """One student alone (also the warm-up: the first training after start)."""
    student = open_price(bench, name)
    quick_demo(student)
    click_train(student)
    wait_results(bench, [student])
    return outcome(student)


def scenario_alone(bench: Bench, repeats: int) -> dict[str, Any]:
    """One student alone, ``repeats`` times one after the other (new seeds)."""
    done = [scenario_single(bench, f"alone{i}") for i in range(1, repeats + 1)]
    times = [r["seconds"] for r in done if r.get("seconds") is not None]
    errors = [r["error"] for r in done if r.get("error")]
    return {
        "runs": done,
        "seconds": round(statistics.median(times), 3) if times else None,
        "error": errors[0] if errors and not times else None,
        "errors": len(errors),
    }


def scenario_class(bench: Bench, count: int) -> dict[str, Any]:
    """``count`` students press Train within the same second."""
    students = prepare(bench, count)
    spread = click_together(students)
    wait_results(bench, students)
    return {"click_spread_s": spread, **summarize([outcome(s) for s in students])}


def scenario_behind(bench: Bench, alone_s: float | None) -> dict[str, Any]:
    """A trains 60 epochs; 5 s later B presses Quick demo + Train."""
    a = open_price(bench, "A")
    quick_demo(a, epochs=LONG_EPOCHS)
    b = open_price(bench, "B")
    click_train(a)
    time.sleep(BEHIND_DELAY_S)
    quick_demo(b)
    click_train(b)
    wait_results(bench, [b, a])
    b_s = b.result.get("seconds") if b.result else None
    return {
        "a_epochs": LONG_EPOCHS,
        "delay_s": BEHIND_DELAY_S,
        "a": outcome(a),
        "b": outcome(b),
        "b_s": b_s,
        "b_alone_s": alone_s,
        "b_slowdown": ratio(b_s, alone_s),
        "errors": sum(bool(s.result and s.result.get("error")) for s in (a, b)),
    }


def time_learn(page: Any, go: Callable[[], None], before: int) -> dict[str, Any]:
    """Time ``go``, which opens the Learn page in ``page``.

    Returns:
        Seconds to its heading and to the end of its script run, and when ``go``
        started (epoch seconds, to compare with the students' done times).
    """
    started, opened = time.monotonic(), time.time()
    go()
    page.locator(SEL["h1"]).filter(has_text=LEARN_HEADING).first.wait_for()
    heading = time.monotonic() - started
    settle(page, before)
    done = time.monotonic() - started
    return {"heading_s": round(heading, 3), "done_s": round(done, 3), "at": opened}


def open_learn(context: Any) -> dict[str, Any]:
    """Open /learn in a new tab (its own session), timed by :func:`time_learn`."""
    page = context.new_page()
    # The context's base_url + path.
    timed = time_learn(page, lambda: page.goto(LEARN_PATH, wait_until="commit"), 0)
    with contextlib.suppress(Exception):
        page.close()
    return timed


LEARN_LINK = "Learn: how RNNs work"
"""The Learn page's entry in the app's menu (``app.py``)."""


def open_app(context: Any) -> Any:
    """A tab on the price page, its script run ended (for :func:`learn_from_menu`)."""
    page = context.new_page()
    page.goto("/", wait_until="commit")
    page.get_by_role("button", name=QUICK_DEMO).wait_for()
    settle(page, -1)
    return page


def learn_from_menu(page: Any) -> dict[str, Any]:
    """Click Learn in the menu of an open app tab: time to its heading, run end.

    What a student of the class does: the front end is loaded already, so this
    times the server's answer and the drawing of the page.
    """
    link = page.get_by_role("link", name=LEARN_LINK)
    return time_learn(page, link.click, runs(page))


def scenario_nothing(bench: Bench, count: int) -> dict[str, Any]:
    """The Learn page, opened while ``count`` students train (and while idle).

    The visitor's browser is another Chromium at normal priority (see the module
    doc). Its first visit loads Streamlit's front end into the browser's cache, as
    any visit before would; the page is then opened in a new tab while nobody
    trains and again :data:`LEARN_DELAY_S` after the class pressed Train.
    """
    context = bench.visitor.new_context(viewport=VIEWPORT, base_url=bench.server.url)
    context.set_default_timeout(UI_TIMEOUT_MS)
    context.add_init_script(TRACKER)
    try:
        cold = open_learn(context)
        idle = open_learn(context)
        menu_idle = learn_from_menu(open_app(context))
        app = open_app(context)
        students = prepare(bench, count)
        at = schedule_clicks(students)
        time.sleep(max(0.0, at / 1000 + LEARN_DELAY_S - time.time()))
        menu = learn_from_menu(app)
        busy = open_learn(context)
        spread = check_clicks(students, at)
        wait_results(bench, students)
    finally:
        with contextlib.suppress(Exception):
            context.close()
    done = [(s.result or {}).get("done_epoch_s") for s in students]
    waiting = sum(1 for t in done if t is None or t > busy["at"])
    return {
        "learn_cold": cold,
        "learn_idle": idle,
        "learn_busy": busy,
        "learn_slowdown": ratio(busy["heading_s"], idle["heading_s"]),
        "menu_idle": menu_idle,
        "menu_busy": menu,
        "menu_waiting": sum(1 for t in done if t is None or t > menu["at"]),
        "delay_s": LEARN_DELAY_S,
        "waiting_when_opened": waiting,
        "click_spread_s": spread,
        **summarize([outcome(s) for s in students]),
    }


def measured(bench: Bench, name: str, run: Callable[[], dict]) -> dict[str, Any]:
    """Run one scenario: its result, memory, load and time; never raises."""
    log(f"scenario {name}")
    bench.monitor.take()
    load, started = os.getloadavg()[0], time.monotonic()
    try:
        result = run()
    except Exception as err:
        result = {"error": f"{type(err).__name__}: {err}"[:1000]}
        log(f"scenario {name} failed: {result['error']}")
    finally:
        bench.close_all()
    result["memory"] = bench.monitor.take()
    result["load"] = [round(load, 2), round(os.getloadavg()[0], 2)]
    result["elapsed_s"] = round(time.monotonic() - started, 1)
    return result


def plan(quick: bool) -> list[str]:
    sizes = QUICK_CLASS_SIZES if quick else CLASS_SIZES
    nothing = QUICK_NOTHING_STUDENTS if quick else NOTHING_STUDENTS
    first, *rest = [f"class_{n}" for n in sizes]
    return ["warmup", "alone", "behind", first, f"nothing_{nothing}", *rest]


def run_scenario(bench: Bench, name: str, done: dict[str, Any]) -> dict[str, Any]:
    kind, _, count = name.partition("_")
    if kind == "warmup":
        return measured(bench, name, lambda: scenario_single(bench, kind))
    if kind == "alone":
        repeats = bench.alone_repeats
        return measured(bench, name, lambda: scenario_alone(bench, repeats))
    if kind == "behind":
        alone = done.get("alone", {}).get("seconds")
        return measured(bench, name, lambda: scenario_behind(bench, alone))
    if kind == "class":
        return measured(bench, name, lambda: scenario_class(bench, int(count)))
    return measured(bench, name, lambda: scenario_nothing(bench, int(count)))


def run_version(
    label: str,
    folder: Path,
    browsers: tuple[Any, Any],
    args: Any,
    save: Callable[[dict], None],
) -> dict[str, Any]:
    """Start the server of one version, run every scenario, stop it.

    ``save(info)`` is called after every scenario, so a run stopped halfway
    keeps what it measured.
    """
    info = describe_tree(folder)
    log_path = args.out.parent / f"{args.out.stem}-{label}-server.log"
    info["server_log"] = str(log_path)

    def body(server: Server, monitor: Monitor) -> None:
        bench = Bench(*browsers, server, monitor, args.timeout * 60, args.alone_repeats)
        scenarios: dict[str, Any] = {}
        info["scenarios"] = scenarios
        for name in args.scenarios or plan(args.quick):
            scenarios[name] = run_scenario(bench, name, scenarios)
            save(info)

    monitored(info, label, folder, log_path, args.max_hours, body)
    return info
