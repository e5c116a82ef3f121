"""The classroom's report: one Markdown table of old, new and new/old.

Each scenario's result becomes rows (:func:`scenario_rows`: a label, the path
of the number in the result, its unit); :func:`render` writes the header, the
table and the errors. ``bench.classroom`` writes it beside its JSON, prints it
and (after a full run) puts it into BENCHMARKS.md.
"""

from __future__ import annotations

from typing import Any

from bench.browsers import DONE_MARKER
from bench.scenarios import LONG_EPOCHS
from bench.versions import ratio


def fmt(value: Any, unit: str = "s") -> str:
    if value is None:
        return "–"
    if unit == "n":
        return str(value)
    if unit == "MiB":
        return f"{value:,.0f}"
    if unit == "x":
        return f"{value:.2f}"
    if unit == "spread":
        return f"{value:.3f}"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def _get(data: dict[str, Any], path: str) -> Any:
    for key in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _memory_rows(title: str) -> list[tuple[str, str]]:
    return [
        (f"{title}: peak RSS of the server process (MiB)", "memory.server_peak_mb"),
        (
            f"{title}: peak RSS of its child processes, summed (MiB)",
            "memory.children_peak_mb",
        ),
        (
            f"{title}: peak PSS of its child processes, summed (MiB)",
            "memory.children_pss_peak_mb",
        ),
        (f"{title}: most child processes at once", "memory.children_max_count"),
        (
            f"{title}: CPU time of the server and its children (s)",
            "memory.server_cpu_s",
        ),
        (
            f"{title}: CPU time of the server process alone (s)",
            "memory.web_cpu_s",
        ),
        (
            f"{title}: peak PSS of the browser, all pages (MiB)",
            "memory.browser_pss_peak_mb",
        ),
        (f"{title}: CPU time of the browser (s)", "memory.browser_cpu_s"),
    ]


def scenario_rows(name: str) -> list[tuple[str, str, str]]:
    """``(label, path in the scenario's result, unit)`` of one scenario's rows."""
    kind, _, count = name.partition("_")
    if kind == "warmup":
        rows = [("Warm-up: first training after the start (s)", "seconds")]
    elif kind == "alone":
        rows = [("One Quick-demo student alone, median of its runs (s)", "seconds")]
    elif kind == "behind":
        rows = [
            ("Behind a long run: B's time to results (s)", "b_s"),
            ("Behind a long run: B alone (s)", "b_alone_s"),
            ("Behind a long run: B / B alone", "b_slowdown"),
            (f"Behind a long run: A's time ({LONG_EPOCHS} epochs) (s)", "a.seconds"),
            ("Behind a long run: errors", "errors"),
        ]
    elif kind == "class":
        title = f"Class of {count}"
        rows = [
            (f"{title}: last student's time to results (s)", "last_s"),
            (f"{title}: median time to results (s)", "median_s"),
            (f"{title}: first student's time to results (s)", "first_s"),
            (f"{title}: errors", "errors"),
            (f"{title}: spread of the Train clicks (s)", "click_spread_s"),
            *_memory_rows(title),
        ]
    else:
        title = f"Learn page while {count} train"
        rows = [
            (f"{title}: time to its heading (s)", "learn_busy.heading_s"),
            (
                "Learn page, nobody training: time to its heading (s)",
                "learn_idle.heading_s",
            ),
            (
                "Learn page, first visit (empty browser cache): time to heading (s)",
                "learn_cold.heading_s",
            ),
            (f"{title}: busy / idle", "learn_slowdown"),
            (
                f"{title}, from the menu of an open app: time to its heading (s)",
                "menu_busy.heading_s",
            ),
            (
                "Learn page from the menu, nobody training: time to its heading (s)",
                "menu_idle.heading_s",
            ),
            (
                f"{title}, from the menu: trainers still waiting when clicked",
                "menu_waiting",
            ),
            (f"{title}: time to the end of its run (s)", "learn_busy.done_s"),
            (f"{title}: trainers still waiting when it opened", "waiting_when_opened"),
            (f"{title}: the trainers' last time to results (s)", "last_s"),
            (f"{title}: errors", "errors"),
        ]
    return [(label, path, unit_of(label)) for label, path in rows]


def unit_of(label: str) -> str:
    if "spread" in label:
        return "spread"  # a check of the harness: no ratio
    if label.endswith("(MiB)"):
        return "MiB"
    if label.endswith("(s)"):
        return "s"
    return "x" if "/" in label.rsplit(":", 1)[-1] else "n"


def cell(result: dict[str, Any] | None, path: str) -> Any:
    """One version's value of a row: a number, None (not measured) or "failed"."""
    if result is None:
        return None
    if result.get("error"):
        return "failed"
    return _get(result, path)


def table(versions: dict[str, Any], names: list[str]) -> list[str]:
    lines = ["| measurement | old | new | new/old |", "| --- | ---: | ---: | ---: |"]
    for name in names:
        results = [_get(versions, f"{v}.scenarios.{name}") for v in ("old", "new")]
        for label, path, unit in scenario_rows(name):
            old, new = (cell(result, path) for result in results)
            shown = [v if isinstance(v, str) else fmt(v, unit) for v in (old, new)]
            numbers = [v if isinstance(v, (int, float)) else None for v in (old, new)]
            rate = fmt(ratio(numbers[1], numbers[0]), "x")
            if unit in ("n", "spread"):
                rate = "–"
            lines.append(f"| {label} | {shown[0]} | {shown[1]} | {rate} |")
    return lines


def error_lines(versions: dict[str, Any]) -> list[str]:
    lines = []
    for version in ("old", "new"):
        info = versions.get(version) or {}
        if info.get("error"):
            lines.append(f"- {version}: {info['error']}")
        for name, result in (info.get("scenarios") or {}).items():
            if result.get("error"):
                lines.append(f"- {version} {name}: {result['error']}")
            for message in result.get("error_messages", []):
                lines.append(f"- {version} {name}: {message}")
            people = [result.get("a"), result.get("b"), *result.get("runs", [])]
            for who in people:
                if who and who.get("error"):
                    lines.append(f"- {version} {name} {who['student']}: {who['error']}")
    return lines


def header(meta: dict[str, Any], versions: dict[str, Any]) -> list[str]:
    machine = meta["machine"]
    lines = [
        "# Classroom benchmark: old vs new",
        "",
        f"{meta['date']} · `{meta['command']}` · {machine['cpu']}, "
        f"{machine['cores']} cores, {machine['ram_gb']} GiB · load average "
        f"{meta['load_start']} at the start, {meta['load_end']} at the end.",
        "",
    ]
    for version in ("old", "new"):
        info = versions.get(version) or {}
        commit = (info.get("commit") or "?")[:10]
        dirty = " + uncommitted changes" if info.get("dirty") else ""
        load = f"load average {info.get('load_start')} → {info.get('load_end')}"
        lines.append(f"- {version}: `{commit}`{dirty}, {info.get('folder')}, {load}")
    students = meta.get("students_nice", "?")
    visitor = meta.get("visitor_nice", 0)
    lines += [
        "",
        f"The students' browser ran at nice {students} (its autogroup), the "
        f"Learn-page visitor's at nice {visitor}.",
    ]
    if meta.get("quick"):
        lines += ["", "Quick run (`--quick`): small classes, a check of the harness."]
    return lines


def render(results: dict[str, Any], meta: dict[str, Any]) -> str:
    """The Markdown report: a table of every measurement, old, new and new/old."""
    versions = results.get("versions", {})
    names = list(meta.get("plan") or [])
    lines = [*header(meta, versions), "", *table(versions, names), ""]
    lines.append(
        "Times run from a student's click on Train models to the success message "
        f'("{DONE_MARKER}"), measured inside its page. Both versions ran on this '
        "machine in the same run, one after the other; only the ratios compare "
        "them, the seconds depend on the machine and its load."
    )
    errors = error_lines(versions)
    if errors:
        lines += ["", "## Errors", "", *errors]
    return "\n".join(lines) + "\n"
