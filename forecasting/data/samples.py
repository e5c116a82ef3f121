"""The bundled samples: MasterCard prices, a random walk, fly and locust tracks.

Each sample is parsed once per process; :func:`load_sample` hands out copies.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path

from forecasting.data.prices import PriceData, read_price_csv
from forecasting.data.tracks import TrackingData, read_tracking_csv
from forecasting.settings.errors import DataError

SAMPLES: dict[str, str] = {
    "mastercard": (
        "MasterCard (MA) daily share prices, 2006-05-25 to 2021-10-11, from Yahoo "
        "Finance via Kaggle."
    ),
    "random_walk": (
        "A made-up share price (control): a seeded geometric random walk of 2,500 "
        "daily closes, 2012-06-04 to 2021-12-31; no model can forecast it."
    ),
    "fly": (
        "Six fruit flies in narrow chambers (IDOC tracker), X/Y in pixels at about "
        "13.7 frames per second, 16,404 rows each (GPL-3)."
    ),
    "locust": (
        "Five desert locusts in a 60 cm arena (TRex tracker), X/Y in cm at 5 frames "
        "per second, 2,845 rows each (CC BY 4.0)."
    ),
}
PRICE_SAMPLES: tuple[str, ...] = ("mastercard", "random_walk")
TRACKING_SAMPLES: tuple[str, ...] = ("fly", "locust")
_SAMPLE_FILES: dict[str, str] = {
    "mastercard": "mastercard_stock_history.csv",
    "random_walk": "random_walk.csv",
    "fly": "fly_tracking_idoc_6flies.csv",
    "locust": "locust_tracking_trex_5locusts.csv",
}
DATA_DIR = Path(__file__).resolve().parents[2] / "data"
"""The ``data/`` folder beside the package, holding the samples."""


def _sample_key(name: str) -> str:
    key = str(name).strip().lower()
    if key not in _SAMPLE_FILES:
        raise DataError(f"Unknown sample '{name}'; choose one of {', '.join(SAMPLES)}.")
    return key


def sample_path(name: str) -> Path:
    """Return the path of a bundled sample's CSV file.

    Args:
        name: One of :data:`SAMPLES` (case-insensitive).

    Returns:
        Path inside the ``data/`` folder beside the package.

    Raises:
        DataError: If the name is unknown.
    """
    return DATA_DIR / _SAMPLE_FILES[_sample_key(name)]


@functools.cache
def _parsed_sample(key: str) -> PriceData | TrackingData:
    path = DATA_DIR / _SAMPLE_FILES[key]
    if key in PRICE_SAMPLES:
        return read_price_csv(path, name=key)
    return read_tracking_csv(path, name=key)


def load_sample(name: str) -> PriceData | TrackingData:
    """Load a bundled sample.

    The file is parsed once per process; every call returns a fresh object with
    its own copy of the frame, so changes to it do not affect later calls.

    Args:
        name: ``"mastercard"`` or ``"random_walk"`` (prices), ``"fly"`` or
            ``"locust"`` (tracks).

    Returns:
        :class:`PriceData` for price samples, :class:`TrackingData` for tracks.

    Raises:
        DataError: If the name is unknown.
    """
    parsed = _parsed_sample(_sample_key(name))
    return replace(parsed, frame=parsed.frame.copy())
