"""Shareable setups: every setting of a forecasting page kept in its address.

A teacher sets up an experiment and copies the page's address; each student who
opens it gets the same data source, columns, split, models and training
settings. The address holds a *setup*: flat names -> values, where the training
settings use the names of :mod:`forecasting.settings.names` (``epochs``, ``units``,
``models``, ``scale_low``, ...) and the data and split use these:

- prices: ``source`` (``sample``, ``upload`` or ``ticker``), ``sample``,
  ``ticker``, ``start``, ``end`` (ISO dates), ``columns``, ``split_method``
  (``years`` or ``fraction``), ``train_start_year``, ``train_end_year``,
  ``test_end_year``, ``train_fraction``;
- tracks: ``source`` (``sample`` or ``upload``), ``sample``, ``individual``,
  ``columns``, ``train_rows``, ``test_rows`` and ``rollout`` (free-run steps).

Only values that differ from the page's defaults for the data are written, so
a link to the defaults is the bare page address. Lists are comma separated
(``models=lstm,gru``), booleans ``true`` / ``false``. An uploaded file cannot
travel in a link: a link made on an upload keeps the training settings only.

The value parsers and formatting (one setting's text <-> value, a link's
parameters, the address) are in :mod:`ui.forms.link_params`, which does not import
Streamlit. This module holds the pages' setups: the training settings' parsers
and checks (here because they use the form's ranges in :mod:`ui.forms.widgets`),
and for each page its defaults, parsers, checks and widget values
(:func:`price_link`, :func:`parse_price`, :func:`price_widget_values` and their
tracking twins), which are pure and call no Streamlit function. Applying a link
and keeping the address current is :mod:`ui.forms.sharing`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from forecasting import data as core
from forecasting.prep.budget import MAX_ROLLOUT_STEPS
from forecasting.settings.config import MODEL_KINDS, OPTIMIZERS, TARGETS, TRACKS_DEFAULT
from forecasting.settings.names import DEFAULT_SETTINGS, config_from_settings
from forecasting.settings.presets import get_preset
from ui.forms import sources, widgets
from ui.forms.link_params import (
    Parser,
    boolean,
    choice,
    choices,
    format_params,
    integer,
    iso_date,
    number,
    optional_year,
    parse_params,
    symbol,
)

# The price page's own option labels (ui/forms/prices.py uses these).
YEARS_METHOD, FRACTION_METHOD = "Calendar years", "Share of rows"
UNTIL_END = "until the end of the data"
FIRST_DAY = dt.date(2006, 1, 1)
"""The ticker's default first day (ui/forms/sources.py)."""
DEFAULT_SYMBOL = "MA"
FREE_RUN = get_preset("fly-gru").rollout
"""The tracking page's default free-run horizon (the fly tutorial's)."""

PRICE_SOURCES = dict(
    zip(("sample", "upload", "ticker"), sources.PRICE_SOURCES, strict=True)
)
"""Link name -> the price page's source option."""
TRACK_SOURCES = dict(zip(("sample", "upload"), sources.TRACK_SOURCES, strict=True))
"""Link name -> the tracking page's source option."""

TRAINING_NAMES: tuple[str, ...] = (*widgets.FORM_SETTINGS, "scale_low", "scale_high")
"""The training settings a link can hold (the form's, by their setting names)."""

UPLOAD_NOTE = (
    "An uploaded file cannot travel in a link: the link keeps the training "
    "settings, and whoever opens it uploads the file and picks its columns again."
)
FORM_NOTE = (
    "Changes inside the training form enter the link when **Train models** is pressed."
)


# --------------------------------------------------------------------------------
# Training settings (both pages)
# --------------------------------------------------------------------------------


def training_parsers() -> dict[str, Parser]:
    """Parsers of the training settings, within the form widgets' ranges."""
    return {
        "models": choices(MODEL_KINDS),
        "window": integer(2, 100_000),
        "units": integer(1, 1024),
        "layers": integer(1, 4),
        "dropout": number(0.0, 0.5),
        "optimizer": choice(OPTIMIZERS),
        "learning_rate": number(0.00001, 1.0),
        "epochs": integer(1, 1000),
        "batch_size": choice(widgets.BATCH_SIZES),
        "seed": integer(0, 2**31 - 1),
        "early_stopping": boolean,
        "patience": integer(1, 100),
        "seeds": integer(1, 20),
        "jit_compile": boolean,
        "target": choice(TARGETS),
        "scale_low": number(-1.0, 1.0),
        "scale_high": number(-1.0, 1.0),
    }


def training_defaults(models: Sequence[str]) -> dict[str, Any]:
    """The form's defaults as a setup, with the page's default models."""
    values = {name: DEFAULT_SETTINGS[name] for name in TRAINING_NAMES}
    values["models"] = list(models)
    for name in ("dropout", "learning_rate", "scale_low", "scale_high"):
        values[name] = float(values[name])
    return values


def check_training(setup: dict[str, Any], defaults: Mapping[str, Any]) -> list[str]:
    """Put back the defaults if the training settings do not fit together.

    Returns:
        One warning sentence per problem (none if they fit).
    """
    warnings: list[str] = []
    scale = (setup["scale_low"], setup["scale_high"])
    if scale not in widgets.SCALES.values():
        allowed = " or ".join(
            f"{low:g} to {high:g}" for low, high in widgets.SCALES.values()
        )
        warnings.append(
            f"The link's scale_low and scale_high ({scale[0]:g} to {scale[1]:g}) are "
            f"not a range the page offers ({allowed}); the default is used instead."
        )
        setup["scale_low"], setup["scale_high"] = (
            defaults["scale_low"],
            defaults["scale_high"],
        )
    settings = {name: setup[name] for name in TRAINING_NAMES}
    settings["models"] = settings["models"] or list(MODEL_KINDS)
    try:
        config_from_settings(settings)
    except ValueError as err:
        warnings.append(
            f"The link's training settings do not fit together ({err}); the "
            "defaults are used instead."
        )
        setup.update({name: defaults[name] for name in TRAINING_NAMES})
    return warnings


def _training_from_widgets(prefix: str, values: Mapping[str, Any]) -> dict[str, Any]:
    setup: dict[str, Any] = {}
    for name in widgets.FORM_SETTINGS:
        value = values.get(f"{prefix}_{name}", DEFAULT_SETTINGS[name])
        setup[name] = list(value) if name == "models" else value
    low, high = widgets.SCALES.get(
        values.get(f"{prefix}_scale"),
        (DEFAULT_SETTINGS["scale_low"], DEFAULT_SETTINGS["scale_high"]),
    )
    setup["scale_low"], setup["scale_high"] = float(low), float(high)
    for name in ("dropout", "learning_rate"):
        setup[name] = float(setup[name])
    return setup


def _training_widgets(prefix: str, setup: Mapping[str, Any]) -> dict[str, Any]:
    values = {f"{prefix}_{name}": setup[name] for name in widgets.FORM_SETTINGS}
    values[f"{prefix}_models"] = list(setup["models"])
    for name in ("dropout", "learning_rate"):
        values[f"{prefix}_{name}"] = float(setup[name])
    values[f"{prefix}_scale"] = widgets.scale_label(
        (setup["scale_low"], setup["scale_high"])
    )
    return values


def _key_of(options: Mapping[str, str], label: Any, default: str) -> str:
    return next((name for name, text in options.items() if text == label), default)


# --------------------------------------------------------------------------------
# Prices
# --------------------------------------------------------------------------------

PRICE_DATA_NAMES = (
    "columns",
    "split_method",
    "train_start_year",
    "train_end_year",
    "test_end_year",
    "train_fraction",
)
"""Price settings that need the data (none of them travel with an upload)."""


def price_defaults(data: core.PriceData | None) -> dict[str, Any]:
    """The price page's defaults as a setup (the split's depend on the data)."""
    first, last = data.years if data is not None else (2016, 2021)
    setup: dict[str, Any] = {
        "source": "sample",
        "sample": core.PRICE_SAMPLES[0],
        "ticker": DEFAULT_SYMBOL,
        "start": FIRST_DAY,
        "end": None,
        "columns": [data.default_column()] if data is not None else None,
        "split_method": "years" if first < last else "fraction",
        "train_start_year": max(first, last - 5),
        "train_end_year": max(first, last - 1),
        "test_end_year": None,
        "train_fraction": 0.8,
        "rollout": 0,
    }
    return setup | training_defaults(MODEL_KINDS)


def price_parsers(data: core.PriceData | None) -> dict[str, Parser]:
    """Parsers of the price page's settings (the split's need the data)."""
    parsers: dict[str, Parser] = {
        "source": choice(list(PRICE_SOURCES)),
        "sample": choice(core.PRICE_SAMPLES),
        "ticker": symbol,
        "start": iso_date,
        "end": iso_date,
        "rollout": integer(0, MAX_ROLLOUT_STEPS),
    }
    if data is not None:
        first, last = data.years
        parsers |= {
            "columns": choices(data.columns),
            "split_method": choice(
                ["years", "fraction"] if first < last else ["fraction"]
            ),
            "train_start_year": integer(first, last),
            "train_end_year": integer(first, last),
            "test_end_year": optional_year(first + 1, last),
            "train_fraction": number(0.5, 0.95),
        }
    return parsers | training_parsers()


def _check_price_split(setup: dict[str, Any], defaults: Mapping[str, Any]) -> list[str]:
    start, end, test_end = (
        setup["train_start_year"],
        setup["train_end_year"],
        setup["test_end_year"],
    )
    warnings: list[str] = []
    if start > end:
        warnings.append(
            f"The link's train_start_year {start} is after its train_end_year {end}; "
            "the default training years are used instead."
        )
        setup["train_start_year"] = defaults["train_start_year"]
        setup["train_end_year"] = defaults["train_end_year"]
    if test_end is not None and test_end <= setup["train_end_year"]:
        warnings.append(
            f"The link's test_end_year {test_end} is not after the training years; "
            "the test runs until the end of the data instead."
        )
        setup["test_end_year"] = None
    return warnings


def parse_price(
    params: Mapping[str, str], data: core.PriceData | None
) -> tuple[dict[str, Any], list[str]]:
    """Read a price page link.

    Args:
        params: The address's parameters.
        data: The prices the link's source gives (``None`` for an upload, or
            before they are loaded: then the columns and split are skipped).

    Returns:
        The setup (every name, defaults where the link is silent or wrong) and
        the warning sentences.
    """
    defaults = price_defaults(data)
    ignored = PRICE_DATA_NAMES if data is None else ()
    setup, warnings = parse_params(params, price_parsers(data), defaults, ignored)
    if data is not None:
        warnings += _check_price_split(setup, defaults)
    if setup["end"] is not None and setup["end"] <= setup["start"]:
        warnings.append(
            f"The link's end {setup['end']} is not after its start {setup['start']}; "
            "the default dates are used instead."
        )
        setup["start"], setup["end"] = FIRST_DAY, None
    return setup, warnings + check_training(setup, defaults)


def price_setup(values: Mapping[str, Any]) -> dict[str, Any]:
    """The price page's setup from its widget values (by widget key).

    Only the settings that apply are included: the sample for a sample, the
    ticker and its dates for a ticker, no columns or split for an upload, the
    years or the fraction for the split method chosen.
    """
    source = _key_of(PRICE_SOURCES, values.get("price_source"), "sample")
    setup: dict[str, Any] = {"source": source}
    if source == "sample":
        setup["sample"] = values.get("price_sample", core.PRICE_SAMPLES[0])
    elif source == "ticker":
        setup["ticker"] = (
            str(values.get("price_symbol") or DEFAULT_SYMBOL).strip().upper()
        )
        setup["start"] = values.get("price_start") or FIRST_DAY
        setup["end"] = values.get("price_end") or dt.date.today()
    if source != "upload" and "price_columns" in values:
        setup["columns"] = list(values["price_columns"])
        if values.get("price_method") == FRACTION_METHOD:
            setup["split_method"] = "fraction"
            setup["train_fraction"] = float(values.get("price_fraction", 0.8))
        else:
            setup["split_method"] = "years"
            start, end = values.get("price_years", (2016, 2020))
            setup["train_start_year"], setup["train_end_year"] = int(start), int(end)
            test_end = values.get("price_test_end", UNTIL_END)
            setup["test_end_year"] = None if test_end == UNTIL_END else int(test_end)
    setup["rollout"] = int(values.get("price_rollout", 0))
    return setup | _training_from_widgets("price", values)


def price_link(
    values: Mapping[str, Any], data: core.PriceData | None
) -> dict[str, str]:
    """The price page's link parameters for its widget values and data."""
    setup = price_setup(values)
    if data is None:  # nothing to check the columns and split against
        setup = {k: v for k, v in setup.items() if k not in PRICE_DATA_NAMES}
    always = ("start", "end") if setup["source"] == "ticker" else ()
    return format_params(setup, price_defaults(data), always)


def price_widget_values(
    setup: Mapping[str, Any], data: core.PriceData | None
) -> dict[str, Any]:
    """Widget key -> value that draw a setup on the price page.

    With ``data``, the columns and split are set too, and ``price_data_key``
    marks them as meant for that data (so the page does not reset them).
    """
    values: dict[str, Any] = {
        "price_source": PRICE_SOURCES[setup["source"]],
        "price_sample": setup["sample"],
        "price_symbol": setup["ticker"],
        "price_start": setup["start"],
        "price_end": setup["end"] or dt.date.today(),
        "price_rollout": setup["rollout"],
    }
    if data is not None:
        years = setup["split_method"] == "years"
        values |= {
            "price_data_key": data.fingerprint(),
            "price_columns": list(setup["columns"]),
            "price_method": YEARS_METHOD if years else FRACTION_METHOD,
            "price_years": (setup["train_start_year"], setup["train_end_year"]),
            "price_test_end": setup["test_end_year"] or UNTIL_END,
            "price_fraction": setup["train_fraction"],
        }
    return values | _training_widgets("price", setup)


# --------------------------------------------------------------------------------
# Tracks
# --------------------------------------------------------------------------------

TRACK_DATA_NAMES = ("individual", "columns", "train_rows", "test_rows")
"""Tracking settings that need the data (none of them travel with an upload)."""


def _default_rows(rows: int) -> tuple[int, int]:
    """The tracking page's default rows for a first individual of ``rows`` rows."""
    split = TRACKS_DEFAULT.split
    train = min(split.train_rows, max(10, int(rows * 2 / 3)))
    return train, max(1, min(split.test_rows, rows - train))


def tracking_defaults(data: core.TrackingData | None) -> dict[str, Any]:
    """The tracking page's defaults as a setup (the rows depend on the data)."""
    setup: dict[str, Any] = {"source": "sample", "sample": "fly"}
    if data is not None:
        ids = data.ids()
        train, test = _default_rows(int(data.counts().iloc[0]))
        setup |= {
            "individual": ids[0],
            "columns": list(data.features[:2]),
            "train_rows": train,
            "test_rows": test,
        }
    else:
        split = TRACKS_DEFAULT.split
        setup |= {
            "individual": None,
            "columns": None,
            "train_rows": split.train_rows,
            "test_rows": split.test_rows,
        }
    setup["rollout"] = FREE_RUN
    return setup | training_defaults(TRACKS_DEFAULT.models)


def tracking_parsers(data: core.TrackingData | None) -> dict[str, Parser]:
    """Parsers of the tracking page's settings (the rows need the data)."""
    parsers: dict[str, Parser] = {
        "source": choice(list(TRACK_SOURCES)),
        "sample": choice(core.TRACKING_SAMPLES),
    }
    if data is not None:
        most = int(data.counts().max())
        parsers |= {
            "individual": choice(data.ids()),
            "columns": choices(list(data.features)),
            "train_rows": integer(10, most),
            "test_rows": integer(1, most),
        }
    parsers["rollout"] = integer(0, 20_000)
    return parsers | training_parsers()


def parse_tracking(
    params: Mapping[str, str], data: core.TrackingData | None
) -> tuple[dict[str, Any], list[str]]:
    """Read a tracking page link (see :func:`parse_price`)."""
    defaults = tracking_defaults(data)
    ignored = TRACK_DATA_NAMES if data is None else ()
    setup, warnings = parse_params(params, tracking_parsers(data), defaults, ignored)
    return setup, warnings + check_training(setup, defaults)


def tracking_setup(values: Mapping[str, Any]) -> dict[str, Any]:
    """The tracking page's setup from its widget values (by widget key)."""
    source = _key_of(TRACK_SOURCES, values.get("trk_source"), "sample")
    setup: dict[str, Any] = {"source": source}
    if source == "sample":
        setup["sample"] = values.get("trk_sample", "fly")
        for name in TRACK_DATA_NAMES:
            if f"trk_{name}" in values:
                value = values[f"trk_{name}"]
                setup[name] = list(value) if name == "columns" else value
    setup["rollout"] = int(values.get("trk_rollout", FREE_RUN))
    return setup | _training_from_widgets("trk", values)


def tracking_link(
    values: Mapping[str, Any], data: core.TrackingData | None
) -> dict[str, str]:
    """The tracking page's link parameters for its widget values and data."""
    setup = tracking_setup(values)
    if data is None:
        setup = {k: v for k, v in setup.items() if k not in TRACK_DATA_NAMES}
    return format_params(setup, tracking_defaults(data))


def tracking_widget_values(
    setup: Mapping[str, Any], data: core.TrackingData | None
) -> dict[str, Any]:
    """Widget key -> value that draw a setup on the tracking page."""
    values: dict[str, Any] = {
        "trk_source": TRACK_SOURCES[setup["source"]],
        "trk_sample": setup["sample"],
        "trk_rollout": setup["rollout"],
    }
    if data is not None:
        values["trk_data_key"] = data.fingerprint()
        values |= {f"trk_{name}": setup[name] for name in TRACK_DATA_NAMES}
        values["trk_columns"] = list(setup["columns"])
    return values | _training_widgets("trk", setup)
