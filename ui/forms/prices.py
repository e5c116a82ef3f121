"""The price page's data steps: the prices, the columns and the split.

Step 1 picks the prices (:func:`source`), step 2 the columns to forecast and the
training and test periods (:func:`choose`), with a chart of both periods. Both
are called by the shared page flow (:mod:`ui.flow`); :func:`preset_values`
fills these widgets from a tutorial experiment.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from forecasting import charts
from forecasting.data import DataError, PriceData, series_frame
from forecasting.data.outputs import markdown_text
from forecasting.prep.windows import Split, split_series
from forecasting.settings.config import SplitConfig
from forecasting.settings.presets import Preset
from ui.forms import links, loaders, sources, state
from ui.forms.sources import Selection

UNTIL_END = links.UNTIL_END
SPLIT_METHODS = (links.YEARS_METHOD, links.FRACTION_METHOD)
NO_DATA_ROWS, NO_DATA_WINDOW = 1260, 1000
"""Training rows and largest window the form assumes before the data load."""


def source() -> PriceData | None:
    """Draw the price picker and, once loaded, a preview of the prices."""
    data = sources.price_source()
    if data is not None:
        sources.price_preview(data)
    return data


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
    state.keep(
        {
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
    state.reset({"price_years": (low, high)})
    if first == last:
        state.reset({"price_method": SPLIT_METHODS[1]})


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
        return years_split(data)
    fraction = st.slider(
        "Share of rows used for training",
        min_value=0.5,
        max_value=0.95,
        step=0.05,
        key="price_fraction",
    )
    return SplitConfig.by_fraction(float(fraction))


def _show_periods(
    data: PriceData, frame: Any, columns: tuple[str, ...], split: Split | None
) -> None:
    """The chosen columns with the training and test periods, and their dates."""
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


def choose(data: PriceData) -> Selection:
    """Step 2: draw the columns and periods; return what was chosen."""
    split_config = split_controls(data)
    columns = tuple(st.session_state.get("price_columns") or ())
    frame = split = None
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
            st.error(markdown_text(err))
        if frame is not None:
            _show_periods(data, frame, columns, split)
    return Selection(
        columns=columns,
        split_config=split_config,
        frame=frame,
        split=split,
        data_key=data.fingerprint(),
        label=sources.data_label(data.name),
        n_train=len(split.train) if split is not None else NO_DATA_ROWS,
        max_window=len(frame) - 2 if frame is not None else NO_DATA_WINDOW,
    )


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
