"""The random-walk control sample: a price path nobody can forecast.

Each day's log return is drawn independently from a normal distribution, so
tomorrow's change has nothing to do with today's: no model can have real skill on
it, and a model that looks good is repeating the last value. The bundled file
``data/random_walk.csv`` was written once by::

    python -m forecasting.data.synthetic

which calls :func:`write_random_walk` with the defaults below; running it again
rewrites the same bytes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

RANDOM_WALK_SEED = 20261201
"""Seed of ``numpy.random.default_rng`` for the bundled file."""
RANDOM_WALK_DAYS = 2500
"""Business days in the bundled file."""
RANDOM_WALK_END = "2021-12-31"
"""Last date of the bundled file (it ends where the MasterCard sample does)."""
RANDOM_WALK_START_PRICE = 100.0
"""Close of the first day."""
RANDOM_WALK_VOLATILITY = 0.015
"""Standard deviation of the daily log return (1.5%, about a large stock's)."""


def random_walk_frame(
    days: int = RANDOM_WALK_DAYS,
    seed: int = RANDOM_WALK_SEED,
    end: str = RANDOM_WALK_END,
    start_price: float = RANDOM_WALK_START_PRICE,
    volatility: float = RANDOM_WALK_VOLATILITY,
) -> pd.DataFrame:
    """A geometric Gaussian random walk of daily closes.

    ``close[0] = start_price`` and ``close[t] = close[t-1] * exp(r[t])`` with
    ``r[t] ~ Normal(0, volatility)`` independent, drawn by
    ``numpy.random.default_rng(seed).normal``; always positive. Closes are rounded
    to 4 decimals (as written to the CSV).

    Args:
        days: Number of business days (at least 2).
        seed: Random seed.
        end: Last business day (``YYYY-MM-DD``).
        start_price: First close, above 0.
        volatility: Daily log-return standard deviation, above 0.

    Returns:
        A frame ``(days, 1)`` with a ``Close`` column and a business-day
        ``DatetimeIndex`` named ``"Date"`` ending at ``end``.

    Raises:
        ValueError: If a value is out of range (the message names it).
    """
    if days < 2:
        raise ValueError(f"days must be at least 2, got {days}")
    if not start_price > 0:
        raise ValueError(f"start_price must be above 0, got {start_price}")
    if not volatility > 0:
        raise ValueError(f"volatility must be above 0, got {volatility}")
    returns = np.random.default_rng(seed).normal(0.0, volatility, days - 1)
    log_close = np.log(start_price) + np.concatenate([[0.0], np.cumsum(returns)])
    index = pd.bdate_range(end=end, periods=days, name="Date")
    return pd.DataFrame({"Close": np.round(np.exp(log_close), 4)}, index=index)


def random_walk_csv(frame: pd.DataFrame) -> str:
    """The CSV text of a random-walk frame: ``Date,Close``, ISO dates, LF endings."""
    return frame.to_csv(
        date_format="%Y-%m-%d", float_format="%.4f", lineterminator="\n"
    )


def write_random_walk(path: Path | str) -> Path:
    """Write the bundled random walk (the module's defaults) to ``path``."""
    target = Path(path)
    target.write_text(random_walk_csv(random_walk_frame()), encoding="utf-8")
    return target


if __name__ == "__main__":  # python -m forecasting.data.synthetic [PATH]
    from forecasting.data.samples import DATA_DIR

    out = sys.argv[1] if len(sys.argv) > 1 else DATA_DIR / "random_walk.csv"
    print(write_random_walk(out))
