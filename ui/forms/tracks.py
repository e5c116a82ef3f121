"""The tracking page's data steps: the tracks, the individual and the rows.

Step 1 picks the tracks (:func:`source`), step 2 the individual, its
coordinates and the training and test rows (:func:`choose`), with a chart of its
path. Both are called by the shared page flow (:mod:`ui.flow`);
:func:`preset_values` fills these widgets from a tutorial experiment.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from forecasting import charts
from forecasting.data import DataError, TrackingData, series_frame
from forecasting.data.outputs import markdown_name, markdown_text
from forecasting.prep.windows import Split, split_series
from forecasting.settings.config import TRACKS_DEFAULT, SplitConfig
from forecasting.settings.presets import Preset
from ui.forms import loaders, sources, state
from ui.forms.sources import Selection

DEFAULT_SPLIT = TRACKS_DEFAULT.split


def source() -> TrackingData | None:
    """Draw the tracks picker and, once loaded, a preview of the tracks."""
    data = sources.tracking_source()
    if data is not None:
        sources.tracking_preview(data)
    return data


def default_rows(rows: int) -> tuple[int, int]:
    """The tutorial's training and test rows, or 2/3 and 1/3 if the track is shorter."""
    train = min(DEFAULT_SPLIT.train_rows, max(10, int(rows * 2 / 3)))
    return train, max(1, min(DEFAULT_SPLIT.test_rows, rows - train))


def keep_values(data: TrackingData) -> None:
    """Start new data from its first individual; keep stored values in range."""
    counts = data.counts()
    ids = data.ids()
    if st.session_state.get("trk_data_key") != data.fingerprint():
        # New data: start from its first individual and rows that fit it.
        train, test = default_rows(int(counts.iloc[0]))
        state.reset(
            {
                "trk_individual": ids[0],
                "trk_columns": list(data.features[:2]),
                "trk_train_rows": train,
                "trk_test_rows": test,
            }
        )
        st.session_state["trk_data_key"] = data.fingerprint()
    state.keep_choice("trk_individual", ids, ids[0])
    state.keep_choices("trk_columns", list(data.features), list(data.features[:2]))
    most = int(counts.max())
    for name, low, default in (
        ("train", 10, DEFAULT_SPLIT.train_rows),
        ("test", 1, DEFAULT_SPLIT.test_rows),
    ):
        cut = state.keep_number(f"trk_{name}_rows", low, most, default)
        if cut is not None:
            st.warning(
                f"{cut:g} {name} rows do not fit this file (from {low} to {most:,}, "
                f"its longest individual); the form uses "
                f"{st.session_state[f'trk_{name}_rows']:,}.",
                icon=":material/straighten:",
            )


def individual_controls(data: TrackingData) -> tuple[str, tuple[str, ...], int, int]:
    """Draw the individual, coordinate and row widgets; return their values."""
    keep_values(data)
    counts = data.counts()
    most = int(counts.max())
    who, coords, train_col, test_col = st.columns([2, 2, 1, 1])
    individual = who.selectbox(
        "Individual",
        data.ids(),
        key="trk_individual",
        format_func=lambda i: f"{i} ({counts[i]:,} rows)",
    )
    columns = coords.multiselect(
        "Coordinates to forecast",
        list(data.features),
        key="trk_columns",
        help="X and Y make a 2-D path; one coordinate works too.",
    )
    train_rows = train_col.number_input(
        "Training rows",
        min_value=10,
        max_value=most,
        step=100,
        key="trk_train_rows",
        help="The first rows of the individual's track, used to train.",
    )
    test_rows = test_col.number_input(
        "Test rows",
        min_value=1,
        max_value=most,
        step=100,
        key="trk_test_rows",
        help="The rows right after the training rows, used to score the models.",
    )
    return individual, tuple(columns), int(train_rows), int(test_rows)


def _show_path(
    individual: str, frame: pd.DataFrame, columns: tuple[str, ...], split: Split
) -> None:
    """The training path and the test path after it, with their rows."""
    title = f"{individual}: training path and the test path after it"
    if len(columns) >= 2:
        preview = charts.trajectory_figure(
            split.train[:, :2], split.test[:, :2], columns=columns[:2], title=title
        )
    else:
        preview = charts.coordinates_figure(
            split.train_index,
            split.train,
            split.test_index,
            split.test,
            columns=columns,
            context_rows=None,
            title=title,
            x_title=str(frame.index.name),
        )
    st.plotly_chart(preview, width="stretch")
    order = markdown_name(frame.index.name)
    st.caption(
        f"Training: rows 1-{len(split.train):,} ({order} "
        f"{split.train_index[0]}-{split.train_index[-1]}). Test: the next "
        f"{len(split.test):,} rows ({order} {split.test_index[0]}-"
        f"{split.test_index[-1]}). The individual has "
        f"{len(frame):,} usable rows."
    )


def choose(data: TrackingData) -> Selection:
    """Step 2: draw the individual, coordinates and rows; return the choice."""
    individual, columns, train_rows, test_rows = individual_controls(data)
    split_config = SplitConfig.by_rows(train_rows, test_rows)
    frame = split = None
    if not columns:
        st.error(
            "No coordinate is chosen; choose at least one coordinate to forecast, "
            "such as X."
        )
    else:
        try:
            frame, notes = series_frame(
                data,
                columns,
                individual,
                min_rows=train_rows + test_rows,
                needed_for=f"train {train_rows} + test {test_rows}",
            )
            split = split_series(frame, columns, split_config)
        except DataError as err:
            st.error(markdown_text(err))
        else:
            sources.show_notes(notes)
            _show_path(individual, frame, columns, split)
    n_train = len(split.train) if split is not None else DEFAULT_SPLIT.train_rows
    return Selection(
        columns=columns,
        split_config=split_config,
        frame=frame,
        split=split,
        data_key=f"{data.fingerprint()}:{individual}",
        label=f"{sources.data_label(data.name)} · {individual}",
        individual=individual,
        extras={"individual": individual, "data_key": data.fingerprint()},
        n_train=n_train,
        max_window=max(2, n_train - 1),
    )


def preset_values(preset: Preset) -> dict[str, Any]:
    """The data, individual and row widgets' values for a tutorial experiment."""
    cfg = preset.config
    sample = loaders.sample(preset.sample)
    values: dict[str, Any] = {
        "trk_source": sources.TRACK_SOURCES[0],
        "trk_sample": preset.sample,
        "trk_data_key": sample.fingerprint(),
        "trk_individual": preset.individual or sample.ids()[0],
        "trk_columns": list(cfg.columns),
        "trk_train_rows": cfg.split.train_rows,
        "trk_test_rows": cfg.split.test_rows,
        "trk_rollout": preset.rollout,
    }
    if preset.transfer_to:
        values["trk_other"] = preset.transfer_to
    return values
