"""Run history: every run of this session on a page, its CSV, and two runs side by side.

Each finished run a page shows is added once (by its training key, so settings
trained again, or shown again from the cache, do not add a row) to the page's
:class:`History` in the session. A run is kept as a :class:`HistoryRun`: its
settings and metrics (:class:`forecasting.analysis.history.RunEntry`) and a
:class:`Snapshot` of what its forecast chart needs. The trained models, windows
and scalers are not kept, so a run in the history costs tens of kilobytes,
not megabytes.

At most :data:`MAX_RUNS` runs are kept per page; the oldest is dropped first
and the section says which were dropped. Twenty because a lesson of 45 to 90
minutes with runs of a minute or two rarely gets further, a table of twenty
rows still reads at a glance, and thirty students with both pages full keep a
few tens of megabytes on the shared server.

The table and the CSV come from :func:`forecasting.analysis.history.history_frame` and
:func:`forecasting.analysis.history.history_csv`; the differences of two runs from
:func:`forecasting.analysis.history.settings_difference`; the charts are the figures of
the results (:func:`forecasting.charts.forecast_figure`,
:func:`forecasting.charts.trajectory_figure`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from forecasting import charts
from forecasting.analysis.history import (
    RunEntry,
    config_settings,
    history_csv,
    history_frame,
    settings_difference,
)
from forecasting.data.outputs import markdown_name
from forecasting.forecasters import display_name
from forecasting.settings.config import ExperimentConfig
from ui.forms import state
from ui.views import tables

if TYPE_CHECKING:
    from forecasting.analysis.compare import Comparison
    from ui.running.runs import RunRecord

MAX_RUNS = 20
"""Runs kept per page and session (see the module docstring for why)."""

CONTEXT_ROWS = 120
"""Training rows kept before the test period, drawn for context."""

_HISTORY = "_history"


@dataclass(frozen=True)
class Snapshot:
    """What a run's forecast chart needs, without its models.

    Attributes:
        columns: Feature names, one per column of the arrays.
        track: Whether the rows are positions of one moving individual.
        test_index: Dates (or row numbers) of the test rows.
        test: Real test rows ``(n_test, features)``.
        predictions: Model kind -> one-step forecasts ``(n_test, features)``.
        baselines: Baseline kind -> forecasts ``(n_test, features)``.
        context_index: Positions of the last training rows.
        context: Those rows ``(n_context, features)``.
        rollouts: Model kind -> free-run forecast ``(steps, features)``.
    """

    columns: tuple[str, ...]
    track: bool
    test_index: pd.Index
    test: np.ndarray
    predictions: dict[str, np.ndarray]
    baselines: dict[str, np.ndarray]
    context_index: pd.Index
    context: np.ndarray
    rollouts: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class HistoryRun:
    """One run in the history.

    Attributes:
        key: Its training key (data and settings), e.g. :attr:`RunRecord.key`.
        entry: Its id, time, settings and metrics table.
        data_label: Where the data came from, e.g. ``"MasterCard sample"``.
        snapshot: What its chart needs.
    """

    key: str
    entry: RunEntry
    data_label: str
    snapshot: Snapshot


@dataclass
class History:
    """A page's runs in this session, oldest first.

    Attributes:
        runs: The kept runs (at most the ``limit`` given to :func:`add_run`).
        added: How many runs were ever added (numbers the ids).
        dropped: Ids of the runs dropped to keep the limit, oldest first.
    """

    runs: list[HistoryRun] = field(default_factory=list)
    added: int = 0
    dropped: list[str] = field(default_factory=list)

    def next_id(self) -> str:
        """The id the next run gets: ``"run-1"``, ``"run-2"``, ..."""
        return f"run-{self.added + 1}"

    def find(self, key: str) -> HistoryRun | None:
        """The kept run with this training key, if any."""
        return next((run for run in self.runs if run.key == key), None)

    def get(self, run_id: str) -> HistoryRun:
        """The kept run with this id (``KeyError`` if there is none)."""
        for run in self.runs:
            if run.entry.id == run_id:
                return run
        raise KeyError(run_id)


def add_run(history: History, run: HistoryRun, limit: int = MAX_RUNS) -> bool:
    """Append a run unless its key is there already; drop the oldest beyond ``limit``.

    Returns:
        Whether the run was added.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit!r}")
    if history.find(run.key) is not None:
        return False
    history.runs.append(run)
    history.added += 1
    while len(history.runs) > limit:
        history.dropped.append(history.runs.pop(0).entry.id)
    return True


def run_settings(
    config: ExperimentConfig, data_label: str, rollout_steps: int | None = None
) -> dict[str, Any]:
    """A run's settings as a flat dict: :func:`config_settings` and a few more.

    Args:
        config: The run's settings.
        data_label: Where the data came from.
        rollout_steps: The free run's steps (tracks), or ``None`` to leave it out.

    Returns:
        The keys of :func:`config_settings`, then ``scale_range``,
        ``early_stopping``, ``patience`` (``None`` without early stopping) and,
        if given, ``free_run``.
    """
    settings = config_settings(config, data_label)
    settings["scale_range"] = list(config.scale_range)
    settings["early_stopping"] = config.train.early_stopping
    settings["patience"] = (
        config.train.patience if config.train.early_stopping else None
    )
    if rollout_steps is not None:
        settings["free_run"] = rollout_steps
    return settings


def snapshot(comparison: Comparison, context_rows: int = CONTEXT_ROWS) -> Snapshot:
    """Copy what the run's chart needs out of a comparison (no models)."""
    split = comparison.split
    start = max(len(split.train) - context_rows, 0)
    return Snapshot(
        columns=tuple(split.columns),
        track=split.track,
        test_index=split.test_index,
        test=np.array(split.test),
        predictions={k: np.array(r.predictions) for k, r in comparison.runs.items()},
        baselines={k: np.array(v) for k, v in comparison.baselines.items()},
        context_index=split.train_index[start:],
        context=np.array(split.train[start:]),
        rollouts={
            k: np.array(r.rollout)
            for k, r in comparison.runs.items()
            if r.rollout is not None
        },
    )


def value_text(value: Any) -> str:
    """A setting as short text: lists joined by ``/``, ``None`` as ``"—"``."""
    if value is None:
        return "—"
    if isinstance(value, (list, tuple)):
        return "/".join(value_text(v) for v in value)
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def difference_frame(a: RunEntry, b: RunEntry) -> pd.DataFrame:
    """The settings two runs do not share, as text: one row per setting.

    Returns:
        A frame indexed by setting name with the columns ``a.id`` and ``b.id``
        (empty when the settings are the same).
    """
    diff = settings_difference(a.settings, b.settings)
    frame = pd.DataFrame(
        [[value_text(x), value_text(y)] for x, y in diff.values()],
        index=pd.Index(list(diff), name="setting"),
        columns=[a.id, b.id],
    )
    return frame


def changes(entries: Sequence[RunEntry]) -> list[str]:
    """For each run, what changed from the run before it (``"epochs 1 → 2"``).

    The first run has ``"—"``; a run with the same settings as the one before
    (possible when one in between was dropped) ``"nothing"``.
    """
    notes = ["—"] if entries else []
    for before, after in zip(entries, entries[1:], strict=False):
        diff = settings_difference(before.settings, after.settings)
        notes.append(
            "; ".join(
                f"{key} {value_text(x)} → {value_text(y)}"
                for key, (x, y) in diff.items()
            )
            or "nothing"
        )
    return notes


def history_display(entries: Sequence[RunEntry]) -> pd.DataFrame:
    """The history table with display names, one row per run, indexed by id.

    Returns:
        The columns ``Time`` (``HH:MM:SS``), ``Changed``, ``Best model``,
        ``Best model RMSE``, ``Best baseline``, ``Best baseline RMSE``,
        ``Beats baselines``, ``RMSE <name>`` for every kind seen, then
        ``Settings``.
    """
    frame = history_frame(entries)
    rmse = [c for c in frame.columns if c.startswith("rmse_")]
    shown = pd.DataFrame(
        {
            "Time": [f"{t:%H:%M:%S}" for t in frame["time"]],
            "Changed": changes(entries),
            "Best model": [display_name(k) if k else "—" for k in frame["best_model"]],
            "Best model RMSE": frame["best_rmse"],
            "Best baseline": [
                display_name(k) if k else "—" for k in frame["best_baseline"]
            ],
            "Best baseline RMSE": frame["best_baseline_rmse"],
            "Beats baselines": frame["beats_baselines"].astype(bool),
            **{
                f"RMSE {display_name(c[5:])}": frame[c].astype(np.float64) for c in rmse
            },
            "Settings": frame["settings"],
        }
    )
    shown.index = pd.Index(frame["id"], name="Run")
    return shown


def dropped_note(history: History, limit: int = MAX_RUNS) -> str:
    """A sentence naming the dropped runs (empty when none was dropped)."""
    gone = history.dropped
    if not gone:
        return ""
    which = gone[0] if len(gone) == 1 else f"{gone[0]} to {gone[-1]}"
    runs = "run was" if len(gone) == 1 else f"{len(gone)} oldest runs were"
    return (
        f"The history keeps the last {limit} runs of this page: the {runs} dropped "
        f"({which}); the CSV has the runs listed here."
    )


def run_figure(snap: Snapshot, title: str) -> go.Figure:
    """The run's forecast chart: its path for 2-D tracks, else the first column."""
    predictions = {display_name(k): v for k, v in snap.predictions.items()}
    if snap.track and len(snap.columns) >= 2:
        return charts.trajectory_figure(
            snap.context[:, :2],
            snap.test[:, :2],
            {k: v[:, :2] for k, v in predictions.items()},
            {display_name(k): v[:, :2] for k, v in snap.rollouts.items()},
            columns=snap.columns[:2],
            title=title,
        )
    return charts.forecast_figure(
        snap.test_index,
        snap.test,
        predictions,
        {display_name(k): v for k, v in snap.baselines.items()},
        context_index=snap.context_index,
        context=snap.context,
        feature=0,
        title=title,
        y_title=snap.columns[0],
    )


# Drawing ----------------------------------------------------------------------------
EXPLANATION = (
    "Every training that finished on this page in this browser session is a row "
    "here, oldest first, so you can see which settings gave which errors. "
    "*Changed* says what you changed from the run before; *Beats baselines* is "
    "ticked when the best network's RMSE (test error, lower is better) is below the "
    "best naive baseline's. Settings trained again, or shown again from the cache, "
    "keep their first row. The history lives in this session only: download the "
    f"CSV to keep it. At most {MAX_RUNS} runs are kept (only their errors and "
    "forecasts, not the trained models)."
)


def _history(page: str) -> History:
    pages = st.session_state.setdefault(_HISTORY, {})
    return pages.setdefault(page, History())


def record_run(page: str, record: RunRecord) -> bool:
    """Add a finished run to the page's history (once per training key).

    Returns:
        Whether it was new; the comparison then moves to the two newest runs.
    """
    history = _history(page)
    if history.find(record.key) is not None:
        return False
    comparison = record.comparison
    rollout = comparison.rollout_steps if comparison.split.track else None
    entry = RunEntry(
        history.next_id(),
        datetime.now().replace(microsecond=0),
        run_settings(comparison.config, record.data_label, rollout),
        comparison.metrics,
    )
    run = HistoryRun(record.key, entry, record.data_label, snapshot(comparison))
    add_run(history, run)
    ids = [run.entry.id for run in history.runs]
    if len(ids) >= 2:
        state.reset({f"{page}_history_a": ids[-2], f"{page}_history_b": ids[-1]})
    return True


def section(page: str, record: RunRecord) -> None:
    """Record the run on screen, then draw the page's run history.

    Args:
        page: ``"price"`` or ``"tracking"`` (widget keys start with it).
        record: The run the page shows.
    """
    record_run(page, record)
    history = _history(page)
    entries = [run.entry for run in history.runs]
    st.subheader("Run history")
    st.caption(EXPLANATION)
    table = history_display(entries)
    number = st.column_config.NumberColumn(format="%.3f")
    st.dataframe(
        table,
        width="stretch",
        key=f"{page}_history_table",
        column_config={
            **{column: number for column in table.columns if "RMSE" in column},
            "Settings": st.column_config.TextColumn(width="large"),
        },
    )
    note = dropped_note(history)
    if note:
        st.caption(note)
    st.download_button(
        "Run history (CSV)",
        history_csv(entries),
        file_name=f"{page}_run_history.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
        key=f"{page}_history_csv",
    )
    if len(history.runs) < 2:
        st.caption("Train again with other settings to compare two runs here.")
        return
    compare_two(page, history)


def compare_two(page: str, history: History) -> None:
    """Two chosen runs: their differing settings, metrics and charts side by side."""
    ids = [run.entry.id for run in history.runs]
    keys = (f"{page}_history_a", f"{page}_history_b")
    state.keep_choice(keys[0], ids, ids[-2])
    state.keep_choice(keys[1], ids, ids[-1])
    st.markdown("**Compare two runs**")
    left, right = st.columns(2)
    a_id = left.selectbox("Run A", ids, key=keys[0])
    b_id = right.selectbox("Run B", ids, key=keys[1])
    if a_id == b_id:
        st.info("Choose two different runs to see them side by side.")
        return
    a, b = history.get(a_id), history.get(b_id)
    diff = difference_frame(a.entry, b.entry)
    if diff.empty:
        st.caption("These two runs have the same settings.")
    else:
        st.dataframe(diff, width="stretch", key=f"{page}_history_diff")
        st.caption(
            "The settings that differ between the two runs; every other setting "
            "is the same. Differences in the errors below come from these (and, "
            "for small changes, from chance: try another seed to see how much)."
        )
    _side_by_side(page, (a, b))


def _side_by_side(page: str, runs: Sequence[HistoryRun]) -> None:
    for column, run, side in zip(st.columns(2), runs, "ab", strict=False):
        with column:
            entry = run.entry
            label = markdown_name(run.data_label)
            st.markdown(f"**{entry.id}** · {entry.time:%H:%M:%S} · {label}")
            frame = tables.metrics_display(entry.metrics)
            st.dataframe(
                tables.style_metrics(frame),
                width="stretch",
                key=f"{page}_history_metrics_{side}",
            )
            st.plotly_chart(
                run_figure(run.snapshot, f"{entry.id}: test period"),
                width="stretch",
                key=f"{page}_history_chart_{side}",
            )
    st.caption(
        "Green marks each run's lowest error. The charts are the one-step forecasts "
        "of the test period (for tracks, the path seen from above); compare how "
        "closely the lines follow the real series, and use the legend to hide lines."
    )


def session_runs(page: str) -> Mapping[str, HistoryRun]:
    """The page's kept runs by id (for tests and other sections)."""
    return {run.entry.id: run for run in _history(page).runs}
