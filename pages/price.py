"""Price forecasting: train LSTM, GRU and SimpleRNN on a price series and compare.

The page only declares what is its own; :func:`ui.flow.run` draws the data,
the split, the form, the training and the results.
"""

from __future__ import annotations

from forecasting.prep.budget import MAX_ROLLOUT_STEPS
from forecasting.settings.config import MODEL_KINDS
from ui import flow
from ui.forms import prices
from ui.forms.sources import Selection
from ui.forms.widgets import FreeRun
from ui.views import prices as price_views

PAGE = flow.TrainingPage(
    key="price",
    prefix="price",
    url_path="",
    title="Price forecasting",
    intro="Train recurrent networks on the past of a price series and compare "
    "their **one-step-ahead** forecasts with the real prices of a test period "
    "they never saw, and with a naive forecast that simply repeats the previous "
    "day's price.",
    data_step="What to forecast",
    source=prices.source,
    choose=prices.choose,
    empty=Selection(n_train=prices.NO_DATA_ROWS, max_window=prices.NO_DATA_WINDOW),
    models=MODEL_KINDS,
    free_run=FreeRun(
        label="Free-run forecast (days)",
        default=0,
        most=MAX_ROLLOUT_STEPS,
        step=10,
        unit="days",
        help="After training, also forecast this many days from the end of the "
        "training period, each forecast fed back in as if it were the real "
        "price; the results then show the error by days ahead. 0 turns it off.",
    ),
    command="compare",
    preset_values=prices.preset_values,
    preset_rows=lambda config, rows_on_screen: rows_on_screen,
    results=price_views.show,
    no_data="No data is loaded; choose a sample, upload a CSV or download a ticker.",
    no_columns="No column is chosen; choose at least one column to forecast.",
    waiting="Press **Train models** to train. Results (charts, metrics and "
    "downloads) appear here and stay while you explore the other pages.",
)

flow.run(PAGE)
