"""The teaching lab's numbers: skill against persistence, lag, paired seed tests.

Everything here is plain numpy / pandas / scipy on arrays in ORIGINAL units, so it
runs anywhere (no Streamlit, no TensorFlow) and is checked by hand-sized tests.

* :func:`skill` and :func:`best_lag` answer "is it only copying yesterday?": a
  one-step forecast that repeats the last value has skill 0 against persistence
  and follows the real series one step late (best lag ``+1``);
  :func:`lag_verdict` says so in one sentence.
* :func:`paired_comparison` answers "beyond seed noise?": for every two models
  trained with the same seeds, the mean difference of their test RMSEs with a
  95% t interval, and a verdict in words.
* :func:`skill_and_lag` and :func:`comparison_paired` apply both to a finished
  :class:`~forecasting.analysis.compare.Comparison` (the CLI's ``--json`` uses them).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forecasting import metrics
from forecasting.settings.config import MODEL_LABELS

if TYPE_CHECKING:
    from forecasting.analysis.compare import Comparison, Transfer

LAGS: range = range(-5, 6)
"""The lags :func:`best_lag` looks at by default: -5 .. +5 steps."""

MIN_SEEDS = 3
"""Fewest seeds a paired comparison accepts (two give no usable interval)."""


def skill(rmse_model: float, rmse_persistence: float) -> float:
    """Skill against persistence: ``1 - rmse_model / rmse_persistence``.

    1 is a perfect forecast, 0 is exactly as good as repeating the last value,
    below 0 is worse than that.

    Args:
        rmse_model: The forecast's RMSE (original units).
        rmse_persistence: The persistence forecast's RMSE on the same rows.

    Returns:
        The skill, or NaN when it is undefined: either RMSE is NaN or infinite
        (e.g. a diverged training), or persistence is perfect (RMSE 0, a series
        that never changes), so there is nothing to divide by.

    Raises:
        ValueError: If an RMSE is negative (the message names it and the value).
    """
    for name, value in (
        ("rmse_model", rmse_model),
        ("rmse_persistence", rmse_persistence),
    ):
        if value < 0:
            raise ValueError(f"{name} must be at least 0, got {value}")
    if not (math.isfinite(rmse_model) and math.isfinite(rmse_persistence)):
        return float("nan")
    if rmse_persistence == 0:
        return float("nan")
    return float(1.0 - rmse_model / rmse_persistence)


def _columns(values: np.ndarray, name: str) -> np.ndarray:
    array = metrics.as_rows(values)
    if array.ndim != 2:
        raise ValueError(
            f"{name} must have shape (samples,) or (samples, features), got "
            f"{array.shape}"
        )
    return array


def _correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation of two 1-D arrays; NaN if too short or constant."""
    if len(x) < 3:
        return float("nan")
    dx, dy = x - x.mean(), y - y.mean()
    denominator = math.sqrt(float(dx @ dx) * float(dy @ dy))
    if denominator == 0 or not math.isfinite(denominator):
        return float("nan")
    return float(dx @ dy) / denominator


def lag_correlations(
    actual: np.ndarray, forecast: np.ndarray, lags: Iterable[int] = LAGS
) -> dict[int, float]:
    """Correlation of the forecast's changes with the real changes ``k`` steps before.

    With ``d`` the first difference (``d[t] = x[t] - x[t-1]``), the value at lag
    ``k`` is the Pearson correlation of ``d_forecast[t]`` with ``d_actual[t - k]``
    over every ``t`` where both exist. A positive lag means the forecast moves
    ``k`` steps AFTER the real series: a forecast that repeats the last value
    (``forecast[t] = actual[t - 1]``, persistence) correlates perfectly at
    ``k = +1``; a perfect forecast at ``k = 0``.

    Several features (2-D tracks): the correlation is computed per feature and
    averaged, so X and Y count equally whatever their units; a feature whose
    changes are constant on the overlap (e.g. Y of a horizontal path) is left
    out of the mean.

    Args:
        actual: Real rows ``(samples,)`` or ``(samples, features)``.
        forecast: One-step forecasts of the same rows, same shape.
        lags: The lags to try.

    Returns:
        Lag -> correlation in ``[-1, 1]``, NaN where it is undefined (fewer than
        3 overlapping changes, or no feature whose changes vary).

    Raises:
        ValueError: If the shapes differ or are not 1-D/2-D.
    """
    real, pred = _columns(actual, "actual"), _columns(forecast, "forecast")
    if real.shape != pred.shape:
        raise ValueError(
            f"actual and forecast must have the same shape, got {real.shape} and "
            f"{pred.shape}"
        )
    d_real, d_pred = np.diff(real, axis=0), np.diff(pred, axis=0)
    n = len(d_real)
    result: dict[int, float] = {}
    for k in lags:
        k = int(k)
        if abs(k) >= n:
            result[k] = float("nan")
            continue
        # x[i] = d_pred[t], y[i] = d_real[t - k]
        x, y = (d_pred[k:], d_real[: n - k]) if k >= 0 else (d_pred[:k], d_real[-k:])
        values = [_correlation(x[:, j], y[:, j]) for j in range(x.shape[1])]
        finite = [v for v in values if math.isfinite(v)]
        result[k] = float(np.mean(finite)) if finite else float("nan")
    return result


def best_lag(
    actual: np.ndarray, forecast: np.ndarray, lags: Iterable[int] = LAGS
) -> int | None:
    """The lag at which the forecast's changes best match the real changes.

    See :func:`lag_correlations` for the definition and sign: ``+1`` means the
    forecast follows the real series one step late (what repeating the last
    value gives), ``0`` that it moves with it.

    Args:
        actual: Real rows ``(samples,)`` or ``(samples, features)``.
        forecast: One-step forecasts of the same rows, same shape.
        lags: The lags to try (default -5 .. +5).

    Returns:
        The lag with the highest correlation; on a tie (within 1e-12) the one
        closest to 0, then the positive one. ``None`` if no lag has a defined
        correlation (e.g. a constant forecast, or NaN forecasts).
    """
    scores = lag_correlations(actual, forecast, lags)
    finite = {k: v for k, v in scores.items() if math.isfinite(v)}
    if not finite:
        return None
    top = max(finite.values())
    tied = [k for k, v in finite.items() if v >= top - 1e-12]
    return min(tied, key=lambda k: (abs(k), -k))


def copies_last_value(lag: int | None, skill_value: float) -> bool:
    """Whether a forecast looks like persistence: best lag +1 and skill not above 0."""
    return lag == 1 and math.isfinite(skill_value) and skill_value <= 0


def lag_verdict(label: str, lag: int | None, skill_value: float) -> str | None:
    """One sentence for a forecast that mostly copies the last value, else ``None``.

    Args:
        label: Display name, e.g. ``"LSTM"``.
        lag: Its :func:`best_lag`.
        skill_value: Its :func:`skill` against persistence.

    Returns:
        The sentence when :func:`copies_last_value` holds, otherwise ``None``.
    """
    if not copies_last_value(lag, skill_value):
        return None
    return (
        f"{label} mostly copies the last value: its forecast moves one step after "
        f"the real series (best lag +1) and it is no better than persistence "
        f"(skill {skill_value:+.3f})."
    )


def _interval(differences: np.ndarray, confidence: float) -> tuple[float, float, float]:
    from scipy import stats

    n = len(differences)
    mean = float(differences.mean())
    half = (
        float(stats.t.ppf(0.5 + confidence / 2, n - 1))
        * float(differences.std(ddof=1))
        / math.sqrt(n)
    )
    return mean, mean - half, mean + half


def _pair_verdict(
    a: str, b: str, n: int, mean: float, low: float, high: float, confidence: float
) -> str:
    level = f"{confidence:.0%}"
    if not math.isfinite(mean):
        return (
            f"{a} and {b} cannot be compared: some seeds have no finite RMSE "
            "(the training diverged)."
        )
    if low <= 0 <= high:
        return (
            f"{a} and {b} are not distinguishable with {n} seeds (RMSE difference "
            f"{mean:+,.3f}, {level} interval {low:,.3f} to {high:,.3f})."
        )
    if mean < 0:
        winner, loser, gap, lo, hi = a, b, -mean, -high, -low
    else:
        winner, loser, gap, lo, hi = b, a, mean, low, high
    return (
        f"{winner} has a lower error than {loser} (by {gap:,.3f}, {level} interval "
        f"{lo:,.3f} to {hi:,.3f}, {n} seeds)."
    )


def _seed_arrays(seed_rmse: Mapping[str, Sequence[float]]) -> dict[str, np.ndarray]:
    """Kind -> RMSE per seed ``(seeds,)``, checked: enough seeds, the same count."""
    arrays = {k: np.asarray(v, dtype=np.float64).ravel() for k, v in seed_rmse.items()}
    for kind, values in arrays.items():
        if len(values) < MIN_SEEDS:
            raise ValueError(
                f"seeds must be at least {MIN_SEEDS} for a paired comparison, got "
                f"{len(values)} for {kind}"
            )
    if len({len(v) for v in arrays.values()}) > 1:
        counts = ", ".join(f"{k} {len(v)}" for k, v in arrays.items())
        raise ValueError(f"every model needs the same seeds, got {counts}")
    return arrays


def paired_comparison(
    seed_rmse: Mapping[str, Sequence[float]],
    labels: Mapping[str, str] | None = None,
    confidence: float = 0.95,
) -> list[dict[str, Any]]:
    """Compare every two models over the same seeds: mean RMSE difference and interval.

    For models ``a`` and ``b`` (``a`` before ``b`` in the mapping's order) the
    differences ``rmse_a[i] - rmse_b[i]`` of the same seed ``i`` (same test rows)
    give a mean and a Student t interval ``mean ± t(n-1) * sd / sqrt(n)``
    (``scipy.stats.t``). The two are "not distinguishable" when the interval
    contains 0; otherwise the one with the lower mean error is named.

    Args:
        seed_rmse: Model kind -> test RMSE per seed, the seeds in the same order
            for every model.
        labels: Kind -> display name for the verdicts (default
            :data:`~forecasting.settings.config.MODEL_LABELS`, else the kind itself).
        confidence: Interval level, between 0 and 1 (exclusive).

    Returns:
        One dict per pair: ``{"a", "b"}`` (kinds), ``"mean_diff"`` (a minus b),
        ``"ci_low"``, ``"ci_high"``, ``"verdict"`` (one sentence). NaN values
        when a seed's RMSE is not finite.

    Raises:
        ValueError: If a model has fewer than 3 seeds, the models have different
            numbers of seeds, or ``confidence`` is out of range.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    names = {**MODEL_LABELS, **(labels or {})}
    arrays = _seed_arrays(seed_rmse)
    result = []
    for a, b in itertools.combinations(arrays, 2):
        differences = arrays[a] - arrays[b]
        if np.isfinite(differences).all():
            mean, low, high = _interval(differences, confidence)
        else:
            mean = low = high = float("nan")
        n, label_a, label_b = len(differences), names.get(a, a), names.get(b, b)
        verdict = _pair_verdict(label_a, label_b, n, mean, low, high, confidence)
        result.append(
            dict(a=a, b=b, mean_diff=mean, ci_low=low, ci_high=high, verdict=verdict)
        )
    return result


def forecast_skill_and_lag(
    actual: np.ndarray,
    forecasts: Mapping[str, np.ndarray],
    rmse: Mapping[str, float],
    persistence: str = "persistence",
    lags: Iterable[int] = LAGS,
) -> dict[str, dict[str, Any]]:
    """Skill and best lag of several forecasts of the same rows.

    Args:
        actual: Real rows ``(n_test, features)``.
        forecasts: Kind -> one-step forecasts ``(n_test, features)``.
        rmse: Kind -> RMSE; must include ``persistence``.
        persistence: Key of the persistence forecast in ``rmse``.
        lags: Lags for :func:`best_lag`.

    Returns:
        Kind -> ``{"skill": float, "best_lag": int | None}``.

    Raises:
        ValueError: If ``rmse`` has no persistence entry.
    """
    if persistence not in rmse:
        raise ValueError(f"rmse needs a '{persistence}' entry, got {sorted(rmse)}")
    lags = list(lags)
    return {
        kind: {
            "skill": skill(float(rmse[kind]), float(rmse[persistence])),
            "best_lag": best_lag(actual, forecast, lags),
        }
        for kind, forecast in forecasts.items()
    }


def skill_and_lag(comparison: Comparison) -> dict[str, dict[str, Any]]:
    """Skill and best lag of every model and baseline of a comparison.

    The skill uses the RMSE of the metrics table (for several seeds, the mean of
    each seed's RMSE); the lag uses the forecast the charts show (for several
    seeds, the mean forecast over the seeds).

    Args:
        comparison: A finished :class:`~forecasting.analysis.compare.Comparison`.

    Returns:
        Kind (models and baselines) -> ``{"skill", "best_lag"}``.
    """
    forecasts = {k: run.predictions for k, run in comparison.runs.items()}
    forecasts.update(comparison.baselines)
    rmse = comparison.metrics.set_index("kind")["rmse"].to_dict()
    return forecast_skill_and_lag(comparison.actual, forecasts, rmse)


def transfer_skill_and_lag(transfer: Transfer) -> dict[str, dict[str, Any]]:
    """Skill and best lag of trained models applied to another series.

    The yardstick is persistence on that other series (the baselines of a
    transfer are fitted there), so a skill above 0 means the model carries over
    better than copying the other individual's last step.

    Args:
        transfer: The result of :func:`~forecasting.analysis.compare.apply_to`.

    Returns:
        Kind (models and baselines) -> ``{"skill", "best_lag"}``.
    """
    forecasts = {**transfer.predictions, **transfer.baselines}
    rmse = transfer.metrics.set_index("kind")["rmse"].to_dict()
    return forecast_skill_and_lag(transfer.split.test, forecasts, rmse)


def seed_rmse(comparison: Comparison) -> dict[str, list[float]]:
    """Test RMSE of each seed of every model, seeds in training order."""
    return {
        kind: [metrics.rmse(comparison.actual, p) for p in run.seed_predictions]
        for kind, run in comparison.runs.items()
    }


def comparison_paired(
    comparison: Comparison, confidence: float = 0.95
) -> list[dict[str, Any]]:
    """:func:`paired_comparison` of every two models of a comparison.

    Raises:
        ValueError: If the models were trained with fewer than 3 seeds.
    """
    return paired_comparison(seed_rmse(comparison), confidence=confidence)


def with_skill_columns(
    table: pd.DataFrame, values: Mapping[str, Mapping[str, Any]]
) -> pd.DataFrame:
    """A copy of a metrics table with ``skill`` and ``best_lag`` after the errors.

    Args:
        table: :attr:`Comparison.metrics` (rows with a ``kind`` column).
        values: The result of :func:`skill_and_lag` for the same comparison.

    Returns:
        The table with two more columns, inserted before ``fit_seconds`` (NaN
        where a kind has no value; ``best_lag`` as float so NaN fits).
    """
    shown = table.copy()
    where = (
        shown.columns.get_loc("fit_seconds")
        if "fit_seconds" in shown
        else len(shown.columns)
    )
    for offset, key in enumerate(("skill", "best_lag")):
        column = [values.get(kind, {}).get(key) for kind in shown["kind"]]
        shown.insert(
            where + offset,
            key,
            [np.nan if v is None else float(v) for v in column],
        )
    return shown


def report_lines(comparison: Comparison) -> list[str]:
    """Sentences for under a comparison's table: who copies, who beats whom.

    One :func:`lag_verdict` per network that mostly copies the last value, then
    (with 3 or more seeds) the verdict of every :func:`comparison_paired` pair.
    """
    values = skill_and_lag(comparison)
    lines = []
    for kind, run in comparison.runs.items():
        sentence = lag_verdict(
            run.label, values[kind]["best_lag"], values[kind]["skill"]
        )
        if sentence:
            lines.append(sentence)
    if comparison.config.train.seeds >= MIN_SEEDS:
        lines.extend(pair["verdict"] for pair in comparison_paired(comparison))
    return lines
