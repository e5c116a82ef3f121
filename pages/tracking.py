"""Tracking forecasting: predict where an animal goes next from where it has been.

The page only declares what is its own; :func:`ui.flow.run` draws the data,
the individual and rows, the form, the training and the results.
"""

from __future__ import annotations

from forecasting.settings.config import TRACKS_DEFAULT
from forecasting.settings.presets import get_preset
from ui import flow
from ui.forms import tracks
from ui.forms.sources import Selection
from ui.forms.widgets import FreeRun
from ui.views import tracks as track_views

TRAIN_ROWS = TRACKS_DEFAULT.split.train_rows

PAGE = flow.TrainingPage(
    key="tracking",
    prefix="trk",
    url_path="tracking",
    title="Tracking forecasting",
    intro="Predict an animal's next position from its last positions. Each model "
    "sees a window of past X and Y values and predicts the next step "
    "(**one-step**); a **free run** keeps going on its own predictions, like "
    "forecasting the whole path ahead.",
    data_step="Individual and rows",
    source=tracks.source,
    choose=tracks.choose,
    empty=Selection(n_train=TRAIN_ROWS, max_window=max(2, TRAIN_ROWS - 1)),
    models=TRACKS_DEFAULT.models,
    free_run=FreeRun(
        label="Free-run horizon (steps)",
        default=get_preset("fly-gru").rollout,  # the fly tutorial's
        most=20_000,
        step=100,
        unit="steps",
        help="After training, also forecast this many steps from the end of the "
        "training rows, feeding each prediction back in. 0 turns it off.",
    ),
    command="tracks",
    preset_values=tracks.preset_values,
    preset_rows=lambda config, rows_on_screen: config.split.train_rows,
    results=track_views.show,
    no_data="No data is loaded; choose a sample or upload a tracking CSV.",
    no_columns=None,
    waiting="Press **Train models** to train. Results (path, charts, metrics and "
    "downloads) appear here and stay while you explore the other pages.",
)

flow.run(PAGE)
