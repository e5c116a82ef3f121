"""Tracking forecasting: predict where an animal goes next from where it has been.

Read the widgets, build the config, call the core through :mod:`ui.running.jobs`, draw
the results with :mod:`ui.views.compare`. Training happens only when the form's button
is pressed.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from forecasting import charts
from forecasting.data import DataError, TrackingData, series_frame
from forecasting.prep.windows import Split, split_series
from forecasting.settings.config import TRACKS_DEFAULT, ExperimentConfig, SplitConfig
from forecasting.settings.presets import Preset, get_preset
from ui import nav
from ui.forms import links, loaders, sources, state, widgets
from ui.running import jobs, runs
from ui.views import compare

PAGE = "tracking"
DEFAULT_SPLIT = TRACKS_DEFAULT.split
FREE_RUN = get_preset("fly-gru").rollout
"""The free-run horizon the page starts with: the fly tutorial's."""

nav.require_app("tracking")
st.title("Tracking forecasting")
st.markdown(
    "Predict an animal's next position from its last positions. Each model sees "
    "a window of past X and Y values and predicts the next step (**one-step**); a "
    "**free run** keeps going on its own predictions, like forecasting the whole "
    "path ahead."
)

links.restore("tracking")  # a shared link's settings, once per session

# 1 · Data ------------------------------------------------------------------------
st.header("1 · Data", divider="gray")
data: TrackingData | None = sources.tracking_source()
if data is not None:
    sources.tracking_preview(data)


def default_rows(rows: int) -> tuple[int, int]:
    """The tutorial's training and test rows, or 2/3 and 1/3 if the track is shorter."""
    train = min(DEFAULT_SPLIT.train_rows, max(10, int(rows * 2 / 3)))
    return train, max(1, min(DEFAULT_SPLIT.test_rows, rows - train))


def individual_controls(data: TrackingData) -> tuple[str, tuple[str, ...], int, int]:
    """Draw the individual, coordinate and row widgets; return their values."""
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
    state.restore({"trk_individual": ids[0], "trk_columns": list(data.features[:2])})
    state.keep_choice("trk_individual", ids, ids[0])
    state.keep_choices("trk_columns", list(data.features), list(data.features[:2]))
    most = int(counts.max())
    state.keep_number("trk_train_rows", 10, most, DEFAULT_SPLIT.train_rows)
    state.keep_number("trk_test_rows", 1, most, DEFAULT_SPLIT.test_rows)
    who, coords, train_col, test_col = st.columns([2, 2, 1, 1])
    individual = who.selectbox(
        "Individual",
        ids,
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
    state.remember(["trk_individual", "trk_columns", "trk_train_rows", "trk_test_rows"])
    return individual, tuple(columns), int(train_rows), int(test_rows)


# 2 · Individual and rows -----------------------------------------------------------
individual: str | None = None
columns: tuple[str, ...] = ()
frame: pd.DataFrame | None = None
split_config: SplitConfig | None = None
split: Split | None = None
if data is not None:
    st.header("2 · Individual and rows", divider="gray")
    individual, columns, train_rows, test_rows = individual_controls(data)
    split_config = SplitConfig.by_rows(train_rows, test_rows)
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
            st.error(str(err))
        else:
            sources.show_notes(notes)
            title = f"{individual}: training path and the test path after it"
            if len(columns) >= 2:
                preview = charts.trajectory_figure(
                    split.train[:, :2],
                    split.test[:, :2],
                    columns=columns[:2],
                    title=title,
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
            order = frame.index.name
            st.caption(
                f"Training: rows 1-{len(split.train):,} ({order} "
                f"{split.train_index[0]}-{split.train_index[-1]}). Test: the next "
                f"{len(split.test):,} rows ({order} {split.test_index[0]}-"
                f"{split.test_index[-1]}). The individual has "
                f"{len(frame):,} usable rows."
            )

# 3 · Models and training -------------------------------------------------------------
# Numbered 2 when the data did not load and step 2 is not shown.
st.header(f"{3 if data is not None else 2} · Models and training", divider="gray")
state.restore(
    {**widgets.defaults("trk", TRACKS_DEFAULT.models), "trk_rollout": FREE_RUN}
)
n_train = len(split.train) if split is not None else DEFAULT_SPLIT.train_rows


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


widgets.preset_picker(
    "trk", "tracks", preset_values, lambda config: config.split.train_rows
)
with st.form("trk_form", border=True):
    max_window = max(2, n_train - 1)
    choices = widgets.training_controls("trk", max_window)
    rollout = st.number_input(
        "Free-run horizon (steps)",
        min_value=0,
        max_value=20_000,
        step=100,
        key="trk_rollout",
        help="After training, also forecast this many steps from the end of the "
        "training rows, feeding each prediction back in. 0 turns it off.",
    )
    if choices.config is not None and not choices.error:
        caption = widgets.estimate_caption(choices.config, n_train)
        st.caption(caption + jobs.budget_note())
    submitted = st.form_submit_button(
        "Train models", type="primary", icon=":material/play_arrow:"
    )
state.remember([*widgets.keys("trk"), "trk_rollout"])
links.share("tracking", data)
rollout = int(rollout)

config: ExperimentConfig | None = None
if not choices.error and columns and split_config is not None:
    try:
        config = choices.experiment(columns, split_config)
    except ValueError as err:
        if submitted:
            st.error(str(err))
data_key = f"{data.fingerprint()}:{individual}" if data is not None else None
key = (
    jobs.cache_key(data_key, config, rollout)
    if data_key and config is not None
    else None
)

if submitted:
    if data is None:
        st.error("No data is loaded; choose a sample or upload a tracking CSV.")
    elif choices.error:
        st.error(choices.error)
    elif split is None or frame is None or config is None:
        st.error(
            "The data and settings above do not fit together yet; fix the error "
            "shown above, then press Train."
        )
    else:
        jobs.start_training(
            PAGE,
            frame,
            config,
            meta={
                "key": key,
                "data_label": f"{sources.data_label(data.name)} · {individual}",
                "summary": config.describe()
                + (f" · free run {rollout} steps" if rollout else ""),
                "extras": {
                    "individual": individual,
                    "data_key": data.fingerprint(),
                    "preset": widgets.matching_preset(config, data.name, individual),
                },
            },
            rollout_steps=rollout,
        )
jobs.follow_and_store(PAGE)

# Results -----------------------------------------------------------------------------
record = runs.find_run(PAGE, key) if key else None
current = record is not None
record = record or runs.last_run(PAGE)
if record is not None:
    st.divider()
    trained_on = record.extras.get("individual")
    same_data = data is not None and record.extras.get("data_key") == data.fingerprint()
    others: list[str] = []
    other_frame = None
    if same_data:
        others = [i for i in data.ids() if i != trained_on]
        cfg = record.comparison.config

        def other_frame(other: str) -> pd.DataFrame:
            """The other individual's rows, with the trained coordinates."""
            needed = cfg.split.train_rows + cfg.split.test_rows
            frame, _ = series_frame(
                data,
                cfg.columns,
                other,
                min_rows=needed,
                needed_for=f"train {cfg.split.train_rows} + test {cfg.split.test_rows}",
            )
            return frame

    compare.tracking_results(record, current, other_frame, others)
else:
    st.info(
        "Press **Train models** to train. Results (path, charts, metrics and "
        "downloads) appear here and stay while you explore the other pages."
    )
