"""The metrics table's display names, text formats and best-value highlight.

Pure pandas: nothing trains. The highlight is read from the Styler's HTML (its
``<style>`` block names the highlighted cells as ``row<i>_col<j>``).
"""

import re

import numpy as np
import pandas as pd

from ui.views.tables import BEST_STYLE, metrics_display, style_metrics

INDEX = ["LSTM", "GRU", "Persistence (naive)"]


def comparison_table(seeds: float = 1) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kind": ["lstm", "gru", "persistence"],
            "rmse": [2.0, 1.5, 3.0],
            "mae": [1.0, 1.25, 2.0],
            "mape": [1.0, 2.0, 3.0],
            "fit_seconds": [3.5, 4.0, np.nan],
            "params": [1000, 800, np.nan],
            "epochs": [5, 5, np.nan],
            "seeds": [seeds, seeds, np.nan],
        },
        index=INDEX,
    )


def highlighted(styler) -> set[tuple[int, int]]:
    style = styler.to_html().split("</style>")[0]
    return {(int(r), int(c)) for r, c in re.findall(r"row(\d+)_col(\d+)", style)}


def test_display_names_and_the_free_run_before_the_fit_time():
    shown = metrics_display(comparison_table(), {"lstm": 0.5, "gru": 0.75})
    assert list(shown.columns) == [
        "RMSE",
        "MAE",
        "MAPE %",
        "Free-run distance",
        "Fit time (s)",
        "Parameters",
        "Epochs",
    ]
    assert shown["Free-run distance"].tolist()[:2] == [0.5, 0.75]
    assert np.isnan(shown.loc["Persistence (naive)", "Free-run distance"])


def test_the_seeds_column_only_with_several_seeds():
    assert "Seeds" not in metrics_display(comparison_table(seeds=1))
    assert metrics_display(comparison_table(seeds=3))["Seeds"].tolist()[:2] == [3, 3]


def test_empty_baseline_cells_read_a_dash_and_numbers_stay_numbers():
    styler = style_metrics(metrics_display(comparison_table()))
    data = styler.data
    assert data["Fit time (s)"].tolist() == ["3.5", "4.0", "—"]
    assert data["Parameters"].tolist() == ["1,000", "800", "—"]
    assert data["RMSE"].dtype == float  # sortable


def test_the_lowest_error_of_each_column_is_highlighted():
    shown = metrics_display(comparison_table(), {"lstm": 0.5, "gru": 0.75})
    styler = style_metrics(shown)
    # GRU's RMSE, LSTM's MAE, MAPE and free-run distance; not the fit time.
    assert highlighted(styler) == {(1, 0), (0, 1), (0, 2), (0, 3)}
    assert BEST_STYLE.split(";")[0] in styler.to_html()


def test_a_column_with_one_value_has_no_best():
    shown = metrics_display(comparison_table(), {"lstm": 0.5})
    assert (0, 3) not in highlighted(style_metrics(shown))
