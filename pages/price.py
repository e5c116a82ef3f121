"""Price forecasting: train LSTM, GRU and SimpleRNN on a price series and compare.

Read the widgets, build the config, call the core through :mod:`ui.running.jobs`, draw
the results with :mod:`ui.views.compare`. Training happens only when the form's button
is pressed; everything else redraws from the session's results.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from forecasting import charts
from forecasting.data import DataError, PriceData, series_frame
from forecasting.prep.windows import Split, split_series
from forecasting.settings.config import MODEL_KINDS, ExperimentConfig, SplitConfig
from forecasting.settings.presets import Preset
from ui import nav
from ui.forms import links, loaders, sources, state, widgets
from ui.running import jobs, runs
from ui.views import compare

PAGE = "price"
UNTIL_END = "until the end of the data"
SPLIT_METHODS = ("Calendar years", "Share of rows")

nav.require_app("")
st.title("Price forecasting")
st.markdown(
    "Train recurrent networks on the past of a price series and compare their "
    "**one-step-ahead** forecasts with the real prices of a test period they never "
    "saw, and with a naive forecast that simply repeats the previous day's price."
)

links.restore("price")  # a shared link's settings, once per session

# 1 · Data ------------------------------------------------------------------------
st.header("1 · Data", divider="gray")
data: PriceData | None = sources.price_source()
if data is not None:
    sources.price_preview(data)


SPLIT_KEYS = [
    "price_columns",
    "price_method",
    "price_years",
    "price_test_end",
    "price_fraction",
]


def keep_split_values(data: PriceData) -> None:
    """Start new data from its defaults; keep stored values inside its range."""
    first, last = data.years
    default_years = (max(first, last - 5), max(first, last - 1))
    if st.session_state.get("price_data_key") != data.fingerprint():
        # New data: start from its default column and its last five full years.
        state.reset(
            {
                "price_columns": [data.default_column()],
                "price_method": SPLIT_METHODS[0 if first < last else 1],
                "price_years": default_years,
                "price_test_end": UNTIL_END,
            }
        )
        st.session_state["price_data_key"] = data.fingerprint()
    state.restore(
        {
            "price_columns": [data.default_column()],
            "price_method": SPLIT_METHODS[0],
            "price_years": default_years,
            "price_test_end": UNTIL_END,
            "price_fraction": SplitConfig().train_fraction,
        }
    )
    state.keep_choices("price_columns", data.columns, [data.default_column()])
    years = st.session_state.get("price_years")
    if not (isinstance(years, (tuple, list)) and len(years) == 2):
        years = default_years
    low, high = sorted(min(max(int(y), first), last) for y in years)
    st.session_state["price_years"] = (low, high)
    if first == last:
        st.session_state["price_method"] = SPLIT_METHODS[1]


def years_split(data: PriceData) -> SplitConfig:
    """Draw the training years and the test's last year; return their split."""
    first, last = data.years
    years_col, test_col = st.columns([2, 1])
    start, end = years_col.slider(
        "Training years (inclusive)",
        min_value=first,
        max_value=last,
        key="price_years",
    )
    test_options = [UNTIL_END, *range(end + 1, last + 1)]
    state.keep_choice("price_test_end", test_options, UNTIL_END)
    test_end = test_col.selectbox(
        "Test until the end of year",
        test_options,
        key="price_test_end",
        help="The test period starts on the first day after the training years.",
    )
    return SplitConfig.by_years(
        start, end, None if test_end == UNTIL_END else int(test_end)
    )


def split_controls(data: PriceData) -> SplitConfig:
    """Draw the target and period widgets; return the split."""
    keep_split_values(data)
    target, method_col = st.columns([2, 1])
    target.multiselect(
        "Column(s) to forecast",
        data.columns,
        key="price_columns",
        help="One column is the classic case; several columns make a "
        "multi-feature model that predicts all of them together.",
    )
    method = method_col.radio(
        "Split train and test by",
        SPLIT_METHODS,
        key="price_method",
        horizontal=True,
        disabled=data.years[0] == data.years[1],
        help="The test period always comes after the training period.",
    )
    if method == SPLIT_METHODS[0]:
        split = years_split(data)
    else:
        fraction = st.slider(
            "Share of rows used for training",
            min_value=0.5,
            max_value=0.95,
            step=0.05,
            key="price_fraction",
        )
        split = SplitConfig.by_fraction(float(fraction))
    state.remember(SPLIT_KEYS)
    return split


# 2 · What to forecast --------------------------------------------------------------
columns: tuple[str, ...] = ()
frame = None
split_config: SplitConfig | None = None
split: Split | None = None
if data is not None:
    st.header("2 · What to forecast", divider="gray")
    split_config = split_controls(data)
    columns = tuple(st.session_state.get("price_columns") or ())
    if not columns:
        st.error(
            "No column is chosen; choose at least one column to forecast, such as High."
        )
    else:
        try:
            frame, notes = series_frame(data, columns)
            sources.show_notes(notes)
            split = split_series(frame, columns, split_config)
        except DataError as err:
            st.error(str(err))
        if frame is not None:
            st.plotly_chart(
                charts.series_figure(
                    frame,
                    columns,
                    split.train_index if split else None,
                    split.test_index if split else None,
                    title=f"{data.name}: {', '.join(columns)}",
                ),
                width="stretch",
            )
            if split is not None:
                st.caption(
                    f"Training: {len(split.train):,} rows "
                    f"({split.train_index[0]:%Y-%m-%d} to "
                    f"{split.train_index[-1]:%Y-%m-%d}). Test: {len(split.test):,} "
                    f"rows ({split.test_index[0]:%Y-%m-%d} to "
                    f"{split.test_index[-1]:%Y-%m-%d})."
                )

# 3 · Models and training -------------------------------------------------------------
# Numbered 2 when the data did not load and step 2 is not shown.
st.header(f"{3 if data is not None else 2} · Models and training", divider="gray")
state.restore(widgets.defaults("price", MODEL_KINDS))
n_train = len(split.train) if split is not None else 1260


def preset_values(preset: Preset) -> dict[str, Any]:
    """The data and split widgets' values for a tutorial experiment."""
    cfg = preset.config
    sample = loaders.sample(preset.sample)
    values: dict[str, Any] = {
        "price_source": sources.PRICE_SOURCES[0],
        "price_sample": preset.sample,
        "price_columns": list(cfg.columns),
        "price_data_key": sample.fingerprint(),
    }
    if cfg.split.method == "years":
        values["price_method"] = SPLIT_METHODS[0]
        values["price_years"] = (cfg.split.train_start_year, cfg.split.train_end_year)
        values["price_test_end"] = cfg.split.test_end_year or UNTIL_END
    else:
        values["price_method"] = SPLIT_METHODS[1]
        values["price_fraction"] = cfg.split.train_fraction
    return values


widgets.preset_picker("price", "compare", preset_values, lambda _: n_train)
with st.form("price_form", border=True):
    max_window = len(frame) - 2 if frame is not None else 1000
    choices = widgets.training_controls("price", max_window)
    rollout = widgets.free_run_input()
    if choices.config is not None and not choices.error:
        caption = widgets.estimate_caption(choices.config, n_train)
        st.caption(caption + jobs.budget_note())
    submitted = st.form_submit_button(
        "Train models", type="primary", icon=":material/play_arrow:"
    )
state.remember(widgets.keys("price"))
links.share("price", data)

config: ExperimentConfig | None = None
if not choices.error and columns and split_config is not None:
    try:
        config = choices.experiment(columns, split_config)
    except ValueError as err:
        if submitted:
            st.error(str(err))
key = (
    jobs.cache_key(data.fingerprint(), config, rollout)
    if data is not None and config is not None
    else None
)

if submitted:
    if data is None:
        st.error(
            "No data is loaded; choose a sample, upload a CSV or download a ticker."
        )
    elif choices.error:
        st.error(choices.error)
    elif not columns:
        st.error("No column is chosen; choose at least one column to forecast.")
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
                "data_label": sources.data_label(data.name),
                "summary": config.describe()
                + (f" · free run {rollout} days" if rollout else ""),
                "extras": {"preset": widgets.matching_preset(config, data.name)},
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
    compare.price_results(record, current)
else:
    st.info(
        "Press **Train models** to train. Results (charts, metrics and downloads) "
        "appear here and stay while you explore the other pages."
    )
