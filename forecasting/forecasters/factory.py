"""One forecaster of any kind by its id: a baseline or a network."""

from __future__ import annotations

from typing import TYPE_CHECKING

from forecasting.forecasters.base import BASELINE_KINDS, Forecaster
from forecasting.forecasters.baselines import (
    ConstantVelocity,
    LinearAutoregression,
    Persistence,
)
from forecasting.forecasters.network import NetworkForecaster
from forecasting.settings.config import MODEL_KINDS, ExperimentConfig

if TYPE_CHECKING:
    from forecasting.runtime.engine import Engine


def make_forecaster(
    kind: str,
    config: ExperimentConfig,
    seed: int | None = None,
    *,
    engine: Engine | None = None,
    owner: str = "cli",
) -> Forecaster:
    """An unfitted forecaster of any kind (a baseline or a network).

    Args:
        kind: A baseline kind (:data:`BASELINE_KINDS`) or a model kind.
        config: ``config.window`` for the autoregression; everything for a network.
        seed: A network's seed (default ``config.train.seed``); baselines have none.
        engine: Where a network's jobs run.
        owner: Who asks.

    Raises:
        ValueError: If the kind is unknown.
    """
    if kind == "persistence":
        return Persistence()
    if kind == "linear_ar":
        return LinearAutoregression(config.window)
    if kind == "constant_velocity":
        return ConstantVelocity()
    if kind in MODEL_KINDS:
        return NetworkForecaster(kind, config, seed, engine=engine, owner=owner)
    known = ", ".join((*BASELINE_KINDS, *MODEL_KINDS))
    raise ValueError(f"kind must be one of {known}, got {kind!r}")
