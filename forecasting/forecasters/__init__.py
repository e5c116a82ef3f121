"""Forecasters with one interface: the naive baselines and the trained networks.

Every forecaster is fitted on a :class:`~forecasting.prep.windows.Split` and then
forecasts LEVELS in original units, as darts' baselines share ``fit`` and
``predict`` with its RNNModel:

* :meth:`Forecaster.one_step` ``(split) -> (n_test, n_features)``: each test row
  from the real rows before it (the last training rows, then the test rows);
* :meth:`Forecaster.free_run` ``(split, steps) -> (steps, n_features)``: the
  ``steps`` rows after the last training row of ``split``, each prediction fed
  back in as the newest row. To start elsewhere, pass a split whose training
  rows end where the run should start.

Forecasting another split than the one fitted on applies what was learned,
unchanged (the networks keep their training scaler): that is a transfer.

The baselines compute here (numpy, scikit-learn). A :class:`NetworkForecaster`
fits and forecasts through jobs on the engine's workers (TensorFlow is never
imported in this process); :func:`precompute` sends the forecasts of several
networks as one batch of jobs, so they run at once on several workers.

The interface is in :mod:`~forecasting.forecasters.base`, the baselines in
:mod:`~forecasting.forecasters.baselines`, the networks in
:mod:`~forecasting.forecasters.network`; this package re-exports them, as darts'
``models`` package does.
"""

from forecasting.forecasters.base import (
    BASELINE_KINDS,
    BASELINE_LABELS,
    Forecaster,
    display_name,
)
from forecasting.forecasters.baselines import (
    ConstantVelocity,
    LinearAutoregression,
    Persistence,
    fit_baselines,
)
from forecasting.forecasters.factory import make_forecaster
from forecasting.forecasters.network import NetworkForecaster, precompute

__all__ = [
    "BASELINE_KINDS",
    "BASELINE_LABELS",
    "ConstantVelocity",
    "Forecaster",
    "LinearAutoregression",
    "NetworkForecaster",
    "Persistence",
    "display_name",
    "fit_baselines",
    "make_forecaster",
    "precompute",
]
